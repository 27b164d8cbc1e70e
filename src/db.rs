//! The few shapes of SPI access the extension needs. Every query is schema-qualified and
//! returns at most one row of one `jsonb` column, which keeps the Rust side to plain values.

use auth_core::AuthError;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::Value;

use crate::error::AuthResult;

/// Runs a statement and returns the `jsonb` in the first column of its first row, if any.
pub fn json(sql: &str, args: &[DatumWithOid]) -> AuthResult<Option<Value>> {
    Spi::connect_mut(|client| {
        let table = client.update(sql, Some(1), args)?;
        if table.is_empty() {
            return Ok(None);
        }
        Ok(table.first().get::<JsonB>(1)?.map(|j| j.0))
    })
    .map_err(|e: pgrx::spi::SpiError| {
        pgrx::log!("auth_ext: SPI failure: {e:?}");
        AuthError::Internal
    })
}

/// Runs a read-only query (no transaction id is assigned: safe on standbys and in parallel
/// workers) and returns the `jsonb` in the first column of its first row, if any.
pub fn read_json(sql: &str, args: &[DatumWithOid]) -> AuthResult<Option<Value>> {
    Spi::connect(|client| {
        let table = client.select(sql, Some(1), args)?;
        if table.is_empty() {
            return Ok(None);
        }
        Ok(table.first().get::<JsonB>(1)?.map(|j| j.0))
    })
    .map_err(|e: pgrx::spi::SpiError| {
        pgrx::log!("auth_ext: SPI failure: {e:?}");
        AuthError::Internal
    })
}

/// Runs a statement for its effect; returns the number of rows it touched.
pub fn exec(sql: &str, args: &[DatumWithOid]) -> AuthResult<usize> {
    Spi::connect_mut(|client| Ok(client.update(sql, None, args)?.len())).map_err(
        |e: pgrx::spi::SpiError| {
            pgrx::log!("auth_ext: SPI failure: {e:?}");
            AuthError::Internal
        },
    )
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
