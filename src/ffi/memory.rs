//! Handing memory pages back to the kernel (for the argon2 working area, src/hashing.rs).

/// MADV_FREE on the whole pages inside `area`: the kernel may take them back under memory
/// pressure, and until it does the next use finds them mapped. The contents may then read as
/// zeros.
pub(crate) fn offer_back<T>(area: &[T]) {
    // SAFETY: sysconf has no preconditions.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        p if p > 0 => p as usize,
        _ => return,
    };
    let start = area.as_ptr() as usize;
    let end = start + std::mem::size_of_val(area);
    let (first, last) = (start.div_ceil(page) * page, end / page * page);
    if last > first {
        // SAFETY: the range lies inside `area`, on page boundaries; MADV_FREE keeps the mapping
        // valid (only the contents may be dropped), so the owner's memory stays usable.
        unsafe { libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_FREE) };
    }
}
