//! Planner support for the claim helpers: a bare `auth.uid()` in a policy is planned as
//! `(SELECT auth.uid())`.
//!
//! A STABLE function in a qual is called once per row; Supabase's linter therefore asks users to
//! write `(select auth.uid())`, which the planner turns into an init-plan evaluated once per
//! query. `auth.uid()`, `auth.role()`, `auth.email()` and `auth.jwt()` carry this support
//! function, which answers the planner's `SupportRequestSimplify` by returning exactly that
//! sub-select, over a twin function (`auth._uid_value()` …) that has no support function and so
//! is not rewritten again. Outside a planner (`expression_planner`, e.g. COPY defaults) there is
//! no `root`, and queries without a range table (`SELECT auth.uid()`, PL/pgSQL expressions) are
//! left alone: they evaluate the call once anyway.

use std::ffi::CStr;

use pgrx::pg_sys;
use pgrx::prelude::*;

#[unsafe(no_mangle)]
pub extern "C" fn pg_finfo_auth_ext_helper_support() -> &'static pg_sys::Pg_finfo_record {
    static V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

/// A zeroed node of type `T` tagged `tag`.
///
/// # Safety
/// `T` must be the node struct that `tag` names; call within a memory context that lives as long
/// as the plan (the planner's).
// SAFETY (body): palloc0 returns zeroed memory of the requested size or raises.
unsafe fn node<T>(tag: pg_sys::NodeTag) -> *mut T {
    let n = pg_sys::palloc0(std::mem::size_of::<T>()) as *mut pg_sys::Node;
    (*n).type_ = tag;
    n as *mut T
}

/// The twin of helper `funcid`: `auth._<name>_value`, or InvalidOid.
///
/// # Safety
/// Call from a backend with the catalog accessible (the planner).
// SAFETY (body): syscache lookups by OID and by name; the name read from get_func_name is a
// palloc'd NUL-terminated copy.
unsafe fn twin_of(funcid: pg_sys::Oid) -> pg_sys::Oid {
    let name = pg_sys::get_func_name(funcid);
    if name.is_null() {
        return pg_sys::InvalidOid;
    }
    let name = CStr::from_ptr(name).to_string_lossy();
    if !matches!(name.as_ref(), "uid" | "role" | "email" | "jwt") {
        return pg_sys::InvalidOid;
    }
    let twin = std::ffi::CString::new(format!("_{name}_value")).expect("no NUL");
    // Straight from the syscache, in the helper's own schema: a name lookup would check the
    // planning role's USAGE on `auth`, which policies using the helpers never needed.
    let no_args = pg_sys::buildoidvector(std::ptr::null(), 0);
    pg_sys::GetSysCacheOid(
        pg_sys::SysCacheIdentifier::PROCNAMEARGSNSP as i32,
        pg_sys::Anum_pg_proc_oid as i16,
        pg_sys::Datum::from(twin.as_ptr()),
        pg_sys::Datum::from(no_args),
        pg_sys::Datum::from(pg_sys::get_func_namespace(funcid)),
        pg_sys::Datum::from(0),
    )
}

/// Whether a range table has anything but the RTE_RESULT the planner puts in an empty FROM.
///
/// # Safety
/// `rtable` is NULL or a valid List of RangeTblEntry pointers (a Query's range table).
// SAFETY (body): reads `length` elements of that list.
unsafe fn reads_rows(rtable: *mut pg_sys::List) -> bool {
    if rtable.is_null() {
        return false;
    }
    (0..(*rtable).length as usize).any(|i| {
        let rte = (*(*rtable).elements.add(i)).ptr_value as *mut pg_sys::RangeTblEntry;
        !rte.is_null() && (*rte).rtekind != pg_sys::RTEKind::RTE_RESULT
    })
}

/// The support function (`auth._helper_support(internal)`).
///
/// # Safety
/// Called by PostgreSQL's fmgr with a valid fcinfo whose first argument is a support request
/// node (the SQL declaration says `internal`).
// SAFETY (body): every pointer is checked for NULL before it is followed; the nodes built are
// palloc'd in the planner's memory context, as makeFuncExpr's own are, and the SubLink is a
// well-formed EXPR_SUBLINK over a one-column SELECT of a function of the same result type.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn auth_ext_helper_support(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    let req = pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 0).cast_mut_ptr::<pg_sys::Node>();
    if req.is_null() || (*req).type_ != pg_sys::NodeTag::T_SupportRequestSimplify {
        return pg_sys::Datum::from(0);
    }
    let req = req as *mut pg_sys::SupportRequestSimplify;
    let (root, fcall) = ((*req).root, (*req).fcall);
    if root.is_null() || fcall.is_null() || (*root).parse.is_null() {
        return pg_sys::Datum::from(0);
    }
    // Only queries that read rows gain anything, and a query without a range table may be a
    // PL/pgSQL "simple expression", which is evaluated without the executor and cannot run an
    // init-plan (PL/pgSQL decides that from the query before planning).
    if !reads_rows((*(*root).parse).rtable) {
        return pg_sys::Datum::from(0);
    }
    let twin = twin_of((*fcall).funcid);
    if twin == pg_sys::InvalidOid {
        return pg_sys::Datum::from(0);
    }
    // SELECT auth._<name>_value()
    let call = pg_sys::makeFuncExpr(
        twin,
        (*fcall).funcresulttype,
        std::ptr::null_mut(),
        pg_sys::InvalidOid,
        (*fcall).inputcollid,
        pg_sys::CoercionForm::COERCE_EXPLICIT_CALL,
    );
    (*call).funccollid = (*fcall).funccollid;
    let entry = pg_sys::makeTargetEntry(call.cast(), 1, pg_sys::pstrdup(c"value".as_ptr()), false);
    let query: *mut pg_sys::Query = node(pg_sys::NodeTag::T_Query);
    (*query).commandType = pg_sys::CmdType::CMD_SELECT;
    (*query).querySource = pg_sys::QuerySource::QSRC_ORIGINAL;
    (*query).canSetTag = true;
    (*query).targetList = pg_sys::list_make1_impl(
        pg_sys::NodeTag::T_List,
        pg_sys::ListCell {
            ptr_value: entry.cast(),
        },
    );
    (*query).jointree = pg_sys::makeFromExpr(std::ptr::null_mut(), std::ptr::null_mut());
    let sublink: *mut pg_sys::SubLink = node(pg_sys::NodeTag::T_SubLink);
    (*sublink).subLinkType = pg_sys::SubLinkType::EXPR_SUBLINK;
    (*sublink).subselect = query.cast();
    (*sublink).location = -1;
    // The planner turns sub-links into (init-)plans only in queries it knows have some.
    (*(*root).parse).hasSubLinks = true;
    pg_sys::Datum::from(sublink)
}
