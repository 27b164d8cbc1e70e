"""Bookkeeping shared by the Python reliability suites in this folder (not a suite itself: ./test
runs only the executable files here).

A suite counts its cases by area as [tried, passed, failed] and appends one line per area to
AUTH_EXT_SUMMARY: suite<TAB>area<TAB>tried<TAB>passed<TAB>failed (see README.md).

The suites are started as `python tests/reliability/<suite>.py`, so this folder is on sys.path and
they `import suite`.
"""
import time


def count(cases, area, ok):
    """One more case of `area` in `cases` ({area: [tried, passed, failed]}); returns ok."""
    tried, passed, failed = cases.get(area, [0, 0, 0])
    cases[area] = [tried + 1, passed + (1 if ok else 0), failed + (0 if ok else 1)]
    return ok


def append_summary(path, lines):
    """Appends the summary lines (each ending in a newline) to `path`, when there is one."""
    if path:
        with open(path, "a") as f:
            f.writelines(lines)


def uncallable(fn, trigger, internal):
    """Why `fn` (with .rettype and .argtypes) cannot be called from SQL, in the words given for a
    trigger function and for one taking `internal`; None when it can be called."""
    if fn.rettype == "trigger":
        return trigger
    if "internal" in fn.argtypes:
        return internal
    return None


class Tally:
    """Cases counted in memory, by area in the order the areas first come up."""

    def __init__(self, suite, verbose=False):
        self.suite = suite
        self.verbose = verbose
        self.areas = {}
        self.failures = []

    def count(self, area, ok, shown):
        """Counts one case; a passed one is printed (`shown` after the area) when verbose.
        Returns ok: the caller records and prints a failure its own way."""
        count(self.areas, area, ok)
        if ok and self.verbose:
            print(f"ok   [{area}] {shown}")
        return ok

    def tried(self):
        return sum(c[0] for c in self.areas.values())

    def failed(self):
        return sum(c[2] for c in self.areas.values())

    def summary(self):
        return [f"{self.suite}\t{area}\t{t}\t{p}\t{f}" for area, (t, p, f) in self.areas.items()]

    def finish(self, summary_path, name, started, extra=""):
        """Prints the summary lines, appends them to summary_path (AUTH_EXT_SUMMARY), prints the
        closing line "<name>: N cases, F failed, Ts<extra>". Returns the exit code."""
        lines = self.summary()
        for line in lines:
            print(line.replace("\t", "  "))
        append_summary(summary_path, [line + "\n" for line in lines])
        failed = self.failed()
        print(f"{name}: {self.tried()} cases, {failed} failed, {time.time() - started:.1f}s{extra}")
        return 1 if failed else 0


def report_state(suite, areas, state, summary_path, heading, most):
    """For the suites that keep their cases in a state file across runs (state["cases"] and
    state["failures"]): prints each area of `areas` ([(key, label)]), appends the summary lines,
    prints up to `most` failures under "N <heading>". Returns the exit code: 1 when a case failed
    or an area has no case."""
    failed = 0
    lines = []
    for key, label in areas:
        tried, passed, fail = state["cases"].get(key, [0, 0, 0])
        failed += fail
        print(f"  {label}: {tried} tried, {passed} passed, {fail} failed")
        lines.append(f"{suite}\t{label}\t{tried}\t{passed}\t{fail}\n")
    append_summary(summary_path, lines)
    if state["failures"]:
        print(f"{len(state['failures'])} {heading}")
        for line in state["failures"][:most]:
            print(f"  {line}")
    return 1 if failed or any(state["cases"].get(k, [0])[0] == 0 for k, _ in areas) else 0
