//! The few shapes of SPI access the extension needs. Every query is schema-qualified and
//! returns at most one row of one `jsonb` column, which keeps the Rust side to plain values.

use auth_core::AuthError;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

use crate::error::AuthResult;

fn spi_failed(e: pgrx::spi::SpiError) -> AuthError {
    pgrx::log!("auth_ext: SPI failure: {e:?}");
    AuthError::Internal
}

fn first_json(table: pgrx::spi::SpiTupleTable) -> Result<Option<Value>, pgrx::spi::SpiError> {
    if table.is_empty() {
        return Ok(None);
    }
    Ok(table.first().get::<JsonB>(1)?.map(|j| j.0))
}

/// Statements that may write assign a transaction id first (pgrx's `update`), which a standby
/// refuses with an internal error: say what it is instead.
fn writable() -> AuthResult<()> {
    if unsafe { pg_sys::RecoveryInProgress() } {
        return Err(AuthError::ReadOnly);
    }
    Ok(())
}

/// Runs a statement and returns the `jsonb` in the first column of its first row, if any.
/// Each statement takes a new snapshot, so it sees what the statements before it (and, under
/// READ COMMITTED, transactions that committed meanwhile) wrote.
pub fn json(sql: &str, args: &[DatumWithOid]) -> AuthResult<Option<Value>> {
    writable()?;
    Spi::connect_mut(|client| first_json(client.update(sql, Some(1), args)?)).map_err(spi_failed)
}

/// The same for a read-only query, which assigns no transaction id: safe on standbys and in
/// parallel workers. It reads with the caller's snapshot, so it does not see what this call
/// wrote before it: use it for the reads a call starts with.
pub fn read_json(sql: &str, args: &[DatumWithOid]) -> AuthResult<Option<Value>> {
    Spi::connect(|client| first_json(client.select(sql, Some(1), args)?)).map_err(spi_failed)
}

/// Runs a statement for its effect; returns the number of rows it touched.
pub fn exec(sql: &str, args: &[DatumWithOid]) -> AuthResult<usize> {
    writable()?;
    Spi::connect_mut(|client| Ok(client.update(sql, None, args)?.len())).map_err(spi_failed)
}

pub fn uuid(u: uuid::Uuid) -> pgrx::Uuid {
    pgrx::Uuid::from_bytes(*u.as_bytes())
}

/// Reads a string field of a row object.
pub fn str_field<'a>(row: &'a Value, key: &str) -> Option<&'a str> {
    row.get(key).and_then(Value::as_str)
}

pub fn bool_field(row: &Value, key: &str) -> bool {
    row.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// [`json`] or [`read_json`], for code that serves both a fresh and a plain read.
pub type ReadFn = fn(&str, &[DatumWithOid]) -> AuthResult<Option<Value>>;
