//! Building a `jsonb` value straight from a parse, with PostgreSQL's own builder
//! (`pushJsonbValue`, `JsonbValueToJsonb`).
//!
//! `pgrx::JsonB` returns a `serde_json::Value` by printing it and running `jsonb_in` over the text:
//! for `auth.verify_jwt` that was a third of the call. The verified claims are streamed here
//! instead (see `auth_core::jwt::json`), so each token is parsed exactly once.

use std::ffi::CString;
use std::ptr;

use auth_core::jwt::json::JsonSink;
use pgrx::callconv::{Arg, ArgAbi, BoxRet, FcInfo};
use pgrx::datum::Datum;
use pgrx::pg_sys;
use pgrx::pg_sys::JsonbIteratorToken::*;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::FromDatum;

/// A `jsonb` datum made by [`JsonbBuilder`], returned as is.
pub struct RawJsonb(*mut pg_sys::Jsonb);

unsafe impl BoxRet for RawJsonb {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        unsafe { fcinfo.return_raw_datum(pg_sys::Datum::from(self.0)) }
    }
}

unsafe impl SqlTranslatable for RawJsonb {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(RawJsonb);
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("jsonb"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("jsonb")));
}

/// Receives a document's events and builds the jsonb in the current memory context.
pub struct JsonbBuilder {
    state: *mut pg_sys::JsonbParseState,
    /// Per open container: is it an array (elements) rather than an object (values)?
    in_array: Vec<bool>,
    done: *mut pg_sys::JsonbValue,
    /// Set when the document holds what jsonb cannot (a NUL character in a string).
    pub unrepresentable: bool,
}

impl Default for JsonbBuilder {
    fn default() -> Self {
        JsonbBuilder {
            state: ptr::null_mut(),
            in_array: Vec::new(),
            done: ptr::null_mut(),
            unrepresentable: false,
        }
    }
}

impl JsonbBuilder {
    /// The finished value; `None` if the document was not complete or not representable.
    pub fn finish(self) -> Option<RawJsonb> {
        if self.done.is_null() || self.unrepresentable {
            return None;
        }
        Some(RawJsonb(unsafe { pg_sys::JsonbValueToJsonb(self.done) }))
    }

    fn push(&mut self, token: pg_sys::JsonbIteratorToken::Type, value: *mut pg_sys::JsonbValue) {
        let result = unsafe { pg_sys::pushJsonbValue(&mut self.state, token, value) };
        if self.state.is_null() {
            self.done = result;
        }
    }

    fn scalar(&mut self, mut value: pg_sys::JsonbValue) {
        let token = if self.in_array.last() == Some(&true) {
            WJB_ELEM
        } else {
            WJB_VALUE
        };
        self.push(token, &mut value);
    }

    fn string_value(&mut self, s: &str) -> pg_sys::JsonbValue {
        // jsonb keeps text, and PostgreSQL text cannot hold NUL.
        if s.as_bytes().contains(&0) {
            self.unrepresentable = true;
        }
        let mut v = pg_sys::JsonbValue {
            type_: pg_sys::jbvType::jbvString,
            val: unsafe { std::mem::zeroed() },
        };
        // The builder keeps the pointer until JsonbValueToJsonb copies it: a palloc'd copy lives
        // as long as the call's memory context.
        unsafe {
            v.val.string.len = s.len() as i32;
            v.val.string.val = pg_sys::pnstrdup(s.as_ptr().cast(), s.len());
        }
        v
    }

    fn numeric(&mut self, numeric: pg_sys::Numeric) {
        let mut v = pg_sys::JsonbValue {
            type_: pg_sys::jbvType::jbvNumeric,
            val: unsafe { std::mem::zeroed() },
        };
        v.val.numeric = numeric;
        self.scalar(v);
    }

    /// Exact decimal text (the shortest that round-trips, as serde_json prints it) to numeric.
    fn numeric_from_text(&mut self, text: String) {
        let text = CString::new(text).expect("a number's text has no NUL");
        let datum = unsafe {
            pgrx::fcinfo::direct_function_call_as_datum(
                pg_sys::numeric_in,
                &[
                    Some(pg_sys::Datum::from(text.as_ptr())),
                    Some(pg_sys::Datum::from(pg_sys::InvalidOid)),
                    Some(pg_sys::Datum::from(-1i32)),
                ],
            )
        };
        let numeric = datum.map_or(ptr::null_mut(), |d| d.cast_mut_ptr());
        self.numeric(numeric);
    }
}

impl JsonSink for JsonbBuilder {
    fn begin_object(&mut self) {
        self.push(WJB_BEGIN_OBJECT, ptr::null_mut());
        self.in_array.push(false);
    }
    fn key(&mut self, key: &str) {
        let mut k = self.string_value(key);
        self.push(WJB_KEY, &mut k);
    }
    fn end_object(&mut self) {
        self.in_array.pop();
        self.push(WJB_END_OBJECT, ptr::null_mut());
    }
    fn begin_array(&mut self) {
        self.push(WJB_BEGIN_ARRAY, ptr::null_mut());
        self.in_array.push(true);
    }
    fn end_array(&mut self) {
        self.in_array.pop();
        self.push(WJB_END_ARRAY, ptr::null_mut());
    }
    fn null(&mut self) {
        self.scalar(pg_sys::JsonbValue {
            type_: pg_sys::jbvType::jbvNull,
            val: unsafe { std::mem::zeroed() },
        });
    }
    fn bool(&mut self, b: bool) {
        let mut v = pg_sys::JsonbValue {
            type_: pg_sys::jbvType::jbvBool,
            val: unsafe { std::mem::zeroed() },
        };
        v.val.boolean = b;
        self.scalar(v);
    }
    fn i64(&mut self, n: i64) {
        self.numeric(unsafe { pg_sys::int64_to_numeric(n) });
    }
    fn u64(&mut self, n: u64) {
        match i64::try_from(n) {
            Ok(n) => self.i64(n),
            Err(_) => self.numeric_from_text(n.to_string()),
        }
    }
    fn f64(&mut self, n: f64) {
        match serde_json::Number::from_f64(n) {
            Some(n) => self.numeric_from_text(n.to_string()),
            None => self.null(),
        }
    }
    fn string(&mut self, s: &str) {
        let v = self.string_value(s);
        self.scalar(v);
    }
}

/// A `jsonb` argument, detoasted but not converted: `pgrx::JsonB` would print it and parse the
/// text with serde_json (which panics on numbers beyond f64, such as `1e400`).
pub struct JsonbArg(*mut pg_sys::Jsonb);

impl FromDatum for JsonbArg {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _typoid: pg_sys::Oid,
    ) -> Option<Self> {
        if is_null {
            return None;
        }
        Some(JsonbArg(unsafe {
            pg_sys::pg_detoast_datum(datum.cast_mut_ptr()).cast()
        }))
    }
}

unsafe impl<'fcx> ArgAbi<'fcx> for JsonbArg {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        unsafe { arg.unbox_arg_using_from_datum() }.expect("a strict argument is not null")
    }
}

unsafe impl SqlTranslatable for JsonbArg {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(JsonbArg);
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("jsonb"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("jsonb")));
}

impl JsonbArg {
    fn root(&self) -> *mut pg_sys::JsonbContainer {
        unsafe { ptr::addr_of_mut!((*self.0).root) }
    }

    /// Whether the value is an object (rather than an array or a scalar).
    pub fn is_object(&self) -> bool {
        let header = unsafe { (*self.root()).header };
        header & pg_sys::JB_FOBJECT != 0
    }

    /// Whether an object has a top-level member `key`.
    pub fn has_key(&self, key: &str) -> bool {
        unsafe {
            !pg_sys::getKeyJsonValueFromContainer(
                self.root(),
                key.as_ptr().cast(),
                key.len() as i32,
                ptr::null_mut(),
            )
            .is_null()
        }
    }

    /// The value for Rust code; `what` names the argument in the error. serde_json holds less
    /// than jsonb: numbers beyond double precision, nesting beyond 128 levels.
    pub fn to_value(&self, what: &str) -> Result<serde_json::Value, auth_core::AuthError> {
        serde_json::from_str(&self.to_text()).map_err(|_| {
            auth_core::AuthError::validation(format!(
                "{what} must be JSON with numbers within double precision and at most 128 levels of nesting"
            ))
        })
    }

    /// The value as JSON text, as `jsonb_out` prints it.
    pub fn to_text(&self) -> String {
        unsafe {
            let size = pgrx::varlena::varsize_any_exhdr(self.0.cast()) as i32;
            let text = pg_sys::JsonbToCString(ptr::null_mut(), self.root(), size);
            std::ffi::CStr::from_ptr(text)
                .to_string_lossy()
                .into_owned()
        }
    }
}
