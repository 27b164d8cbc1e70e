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
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::FromDatum;

/// A `jsonb` datum made by [`JsonbBuilder`], returned as is.
pub struct RawJsonb(*mut pg_sys::Jsonb);

// SAFETY: the pointer is a complete jsonb datum palloc'd by JsonbValueToJsonb in the call's
// memory context, which is what a function returning jsonb hands back.
unsafe impl BoxRet for RawJsonb {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> Datum<'fcx> {
        unsafe { fcinfo.return_raw_datum(pg_sys::Datum::from(self.0)) }
    }
}

// SAFETY: the type is declared to SQL as jsonb, which is what the datum is.
unsafe impl SqlTranslatable for RawJsonb {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(RawJsonb);
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("jsonb"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("jsonb")));
}

/// Receives a document's events and builds the jsonb in the current memory context.
///
/// The document is assembled as a tree of `JsonbValue`s in Rust memory, each object's pairs
/// sorted in jsonb's key order (shorter keys first, then bytewise) and checked unique by the
/// parser, and handed to PostgreSQL in one `JsonbValueToJsonb` call. `pushJsonbValue`, which
/// this replaced, sorted each object with `qsort_arg`, copied every string with `pnstrdup` and
/// crossed the FFI boundary (a `sigsetjmp`) once per key and value: half of `verify_jwt`.
pub struct JsonbBuilder {
    /// Open containers, innermost last.
    open: Vec<Open>,
    /// Finished containers and strings the tree points into; freed after the conversion.
    pairs: Vec<Vec<pg_sys::JsonbPair>>,
    elems: Vec<Vec<pg_sys::JsonbValue>>,
    /// Every key and string, back to back. Never grown past its capacity, so the addresses
    /// the tree holds stay valid; a string that does not fit gets a box of its own.
    arena: Vec<u8>,
    overflow: Vec<Box<[u8]>>,
    done: Option<pg_sys::JsonbValue>,
    /// Set when the document holds what jsonb cannot (a NUL character in a string).
    pub unrepresentable: bool,
}

enum Open {
    Object {
        pairs: Vec<pg_sys::JsonbPair>,
        key: Option<pg_sys::JsonbValue>,
    },
    Array(Vec<pg_sys::JsonbValue>),
}

impl JsonbBuilder {
    /// A builder for a document of `len` bytes of JSON text (its strings fit in that).
    pub fn for_text(len: usize) -> Self {
        JsonbBuilder {
            open: Vec::with_capacity(4),
            pairs: Vec::new(),
            elems: Vec::new(),
            arena: Vec::with_capacity(len),
            overflow: Vec::new(),
            done: None,
            unrepresentable: false,
        }
    }
}

fn value(type_: pg_sys::jbvType::Type) -> pg_sys::JsonbValue {
    pg_sys::JsonbValue {
        type_,
        // SAFETY: JsonbValue's payload is a C union of plain data; all-zero is a valid value of
        // every member, and each caller sets the member its type_ names.
        val: unsafe { std::mem::zeroed() },
    }
}

/// jsonb's order of object keys (`lengthCompareJsonbStringValue`): by length, then bytewise.
fn key_order(a: &pg_sys::JsonbPair, b: &pg_sys::JsonbPair) -> std::cmp::Ordering {
    // SAFETY: keys are jbvString values made by string_value, whose pointer and length name
    // bytes in the builder's arena or overflow boxes, alive as long as the builder.
    let bytes = |v: &pg_sys::JsonbValue| unsafe {
        std::slice::from_raw_parts(v.val.string.val as *const u8, v.val.string.len as usize)
    };
    let (ka, kb) = (bytes(&a.key), bytes(&b.key));
    ka.len().cmp(&kb.len()).then_with(|| ka.cmp(kb))
}

impl JsonbBuilder {
    /// The finished value; `None` if the document was not complete or not representable.
    pub fn finish(mut self) -> Option<RawJsonb> {
        if self.unrepresentable || !self.open.is_empty() {
            return None;
        }
        let mut root = self.done.take()?;
        // Copies everything into one palloc'd jsonb; the tree is dropped after.
        // SAFETY: the tree is complete (no open container) and every pointer in it names memory
        // the builder owns until after this call, which copies it all into one palloc'd datum.
        Some(RawJsonb(unsafe { pg_sys::JsonbValueToJsonb(&mut root) }))
    }

    /// Places a finished value: as the current object's value, an array element, or the root.
    fn place(&mut self, v: pg_sys::JsonbValue) {
        match self.open.last_mut() {
            None => self.done = Some(v),
            Some(Open::Array(elems)) => elems.push(v),
            Some(Open::Object { pairs, key }) => match key.take() {
                Some(key) => pairs.push(pg_sys::JsonbPair {
                    key,
                    value: v,
                    order: pairs.len() as u32,
                }),
                // The parser sends a key before every value; a stray value is a bug upstream.
                None => self.unrepresentable = true,
            },
        }
    }

    fn string_value(&mut self, s: &str) -> pg_sys::JsonbValue {
        // jsonb keeps text, and PostgreSQL text cannot hold NUL.
        if s.as_bytes().contains(&0) {
            self.unrepresentable = true;
        }
        let bytes = s.as_bytes();
        let start = self.arena.len();
        let at = if self.arena.capacity() - start >= bytes.len() {
            self.arena.extend_from_slice(bytes);
            // Within capacity: no reallocation, so earlier strings have not moved.
            // SAFETY: `start` is within the arena's allocation (len <= capacity).
            unsafe { self.arena.as_ptr().add(start) }
        } else {
            let copy: Box<[u8]> = bytes.into();
            let at = copy.as_ptr();
            self.overflow.push(copy);
            at
        };
        let mut v = value(pg_sys::jbvType::jbvString);
        v.val.string.len = bytes.len() as i32;
        v.val.string.val = at as *mut std::ffi::c_char;
        v
    }

    fn numeric(&mut self, numeric: pg_sys::Numeric) {
        let mut v = value(pg_sys::jbvType::jbvNumeric);
        v.val.numeric = numeric;
        self.place(v);
    }

    /// Exact decimal text (the shortest that round-trips, as serde_json prints it) to numeric.
    fn numeric_from_text(&mut self, text: String) {
        let text = CString::new(text).expect("a number's text has no NUL");
        // SAFETY: numeric_in takes a NUL-terminated string (alive for the call), a type OID and
        // a typmod, as for any input function; bad text raises, which guard() handles.
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
        self.open.push(Open::Object {
            pairs: Vec::with_capacity(16),
            key: None,
        });
    }
    fn key(&mut self, key: &str) {
        let k = self.string_value(key);
        match self.open.last_mut() {
            Some(Open::Object { key, .. }) => *key = Some(k),
            _ => self.unrepresentable = true,
        }
    }
    fn end_object(&mut self) {
        let Some(Open::Object { mut pairs, .. }) = self.open.pop() else {
            self.unrepresentable = true;
            return;
        };
        // The parser refuses duplicate keys, so sorting is all jsonb needs.
        pairs.sort_unstable_by(key_order);
        let mut v = value(pg_sys::jbvType::jbvObject);
        v.val.object.nPairs = pairs.len() as i32;
        v.val.object.pairs = pairs.as_mut_ptr();
        self.pairs.push(pairs);
        self.place(v);
    }
    fn begin_array(&mut self) {
        self.open.push(Open::Array(Vec::new()));
    }
    fn end_array(&mut self) {
        let Some(Open::Array(mut elems)) = self.open.pop() else {
            self.unrepresentable = true;
            return;
        };
        let mut v = value(pg_sys::jbvType::jbvArray);
        v.val.array.nElems = elems.len() as i32;
        v.val.array.elems = elems.as_mut_ptr();
        v.val.array.rawScalar = false;
        self.elems.push(elems);
        self.place(v);
    }
    fn null(&mut self) {
        self.place(value(pg_sys::jbvType::jbvNull));
    }
    fn bool(&mut self, b: bool) {
        let mut v = value(pg_sys::jbvType::jbvBool);
        v.val.boolean = b;
        self.place(v);
    }
    fn i64(&mut self, n: i64) {
        // SAFETY: a pure conversion, palloc'ing the result in the current memory context.
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
        self.place(v);
    }
}

/// A `jsonb` argument, detoasted but not converted: `pgrx::JsonB` would print it and parse the
/// text with serde_json (which panics on numbers beyond f64, such as `1e400`).
pub struct JsonbArg(*mut pg_sys::Jsonb);

impl FromDatum for JsonbArg {
    // SAFETY (for callers): `datum` is a jsonb datum when not null, as the SQL signature says.
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _typoid: pg_sys::Oid,
    ) -> Option<Self> {
        if is_null {
            return None;
        }
        // SAFETY: a jsonb datum (the argument's declared type); detoasting copies it into the
        // current memory context if it was toasted, so it lives for the whole call.
        Some(JsonbArg(unsafe {
            pg_sys::pg_detoast_datum(datum.cast_mut_ptr()).cast()
        }))
    }
}

// SAFETY: unboxing goes through from_datum above, for an argument declared as jsonb.
unsafe impl<'fcx> ArgAbi<'fcx> for JsonbArg {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        // SAFETY: the argument's type is jsonb, as declared.
        unsafe { arg.unbox_arg_using_from_datum() }.expect("a strict argument is not null")
    }
}

// SAFETY: the type is declared to SQL as jsonb, which is what from_datum expects.
unsafe impl SqlTranslatable for JsonbArg {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(JsonbArg);
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("jsonb"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("jsonb")));
}

impl JsonbArg {
    fn root(&self) -> *mut pg_sys::JsonbContainer {
        // SAFETY: self.0 is a detoasted jsonb datum, alive for the call.
        unsafe { ptr::addr_of_mut!((*self.0).root) }
    }

    /// Whether the value is an object (rather than an array or a scalar).
    pub fn is_object(&self) -> bool {
        // SAFETY: root() points into the detoasted datum; every container starts with a header.
        let header = unsafe { (*self.root()).header };
        header & pg_sys::JB_FOBJECT != 0
    }

    /// Whether an object has a top-level member `key`.
    pub fn has_key(&self, key: &str) -> bool {
        // SAFETY: `key` is passed with its length (no NUL needed); the container is valid
        // (above), and with a NULL result buffer the function only looks the key up.
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
        // SAFETY: the size is that of the detoasted datum; JsonbToCString returns a palloc'd
        // NUL-terminated string, copied before this call returns.
        unsafe {
            let size = pgrx::varlena::varsize_any_exhdr(self.0.cast()) as i32;
            let text = pg_sys::JsonbToCString(ptr::null_mut(), self.root(), size);
            std::ffi::CStr::from_ptr(text)
                .to_string_lossy()
                .into_owned()
        }
    }
}
