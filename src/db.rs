//! The few shapes of SPI access the extension needs. Every query is schema-qualified and
//! returns at most one row of one `jsonb` column, which keeps the Rust side to plain values.
//!
//! Every statement is a string literal, prepared once per backend and kept (`SPI_keepplan`):
//! parsing and planning each statement on every call was most of a refresh's cost. Postgres'
//! plan cache re-plans kept plans when the tables, the search_path or the role they depend on
//! change.

use auth_core::AuthError;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiClient, SpiResult, SpiTupleTable};
use pgrx::{JsonB, PgOid};
use serde_json::Value;

use crate::error::AuthResult;

/// The zero instance id GoTrue uses for single-tenant installs.
pub(crate) const INSTANCE_ID: &str = "00000000-0000-0000-0000-000000000000";

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

/// A standby refuses writes with an internal error: say what it is instead, before running.
fn writable() -> AuthResult<()> {
    if on_standby() {
        return Err(AuthError::ReadOnly);
    }
    Ok(())
}

/// Whether this server is a standby (in recovery), where nothing can be written.
pub(crate) fn on_standby() -> bool {
    crate::ffi::xact::recovery_in_progress()
}

/// A kept plan per statement text (by address: every statement is a literal) and kind.
struct Kept {
    arg_types: Vec<pg_sys::Oid>,
    plan: Rc<OwnedPreparedStatement>,
}

thread_local! {
    static PLANS: RefCell<HashMap<(usize, usize, bool), Kept>> = RefCell::new(HashMap::new());
}

/// Runs `sql` through its kept plan, preparing it on first use. `mutating`: a statement that may
/// write, run with a new snapshot (SPI's read_only = false); otherwise the caller's snapshot.
fn run<'conn>(
    client: &SpiClient<'conn>,
    sql: &'static str,
    mutating: bool,
    limit: Option<i64>,
    args: &[DatumWithOid],
) -> SpiResult<SpiTupleTable<'conn>> {
    let key = (sql.as_ptr() as usize, sql.len(), mutating);
    let arg_types: Vec<pg_sys::Oid> = args.iter().map(|a| a.oid()).collect();
    let cached = PLANS.with(|p| {
        p.borrow()
            .get(&key)
            .filter(|k| k.arg_types == arg_types)
            .map(|k| k.plan.clone())
    });
    let plan = match cached {
        Some(plan) => plan,
        None => {
            let oids: Vec<PgOid> = arg_types.iter().map(|o| PgOid::from(*o)).collect();
            let plan = if mutating {
                client.prepare_mut(sql, &oids)?
            } else {
                client.prepare(sql, &oids)?
            };
            let plan = Rc::new(plan.keep());
            let kept = Kept {
                arg_types,
                plan: plan.clone(),
            };
            PLANS.with(|p| p.borrow_mut().insert(key, kept));
            plan
        }
    };
    // Held by an Rc, not a borrow of the map: a statement may call back into the extension.
    // A plan prepared as mutating runs with SPI's read_only = false (a new snapshot) through
    // `select` too; pgrx's `update` would first assign a transaction id, which PostgreSQL itself
    // assigns only when a row is written: a statement that matches nothing (an unknown token)
    // then costs no XID.
    client.select(&*plan, limit, args)
}

/// Runs a statement and returns the `jsonb` in the first column of its first row, if any.
/// Each statement takes a new snapshot, so it sees what the statements before it (and, under
/// READ COMMITTED, transactions that committed meanwhile) wrote.
pub(crate) fn json(sql: &'static str, args: &[DatumWithOid]) -> AuthResult<Option<Value>> {
    writable()?;
    Spi::connect_mut(|client| first_json(run(client, sql, true, Some(1), args)?))
        .map_err(spi_failed)
}

/// The same for a read-only query, which assigns no transaction id: safe on standbys and in
/// parallel workers. It reads with the caller's snapshot, so it does not see what this call
/// wrote before it: use it for the reads a call starts with.
pub(crate) fn read_json(sql: &'static str, args: &[DatumWithOid]) -> AuthResult<Option<Value>> {
    Spi::connect_mut(|client| first_json(run(client, sql, false, Some(1), args)?))
        .map_err(spi_failed)
}

/// Runs a statement for its effect; returns the number of rows it touched.
pub(crate) fn exec(sql: &'static str, args: &[DatumWithOid]) -> AuthResult<usize> {
    writable()?;
    Spi::connect_mut(|client| Ok(run(client, sql, true, None, args)?.len())).map_err(spi_failed)
}

/// A row a security decision is made from, read into `T` (`auth_core::rows`): a missing or
/// mistyped field fails the call (PT500, logged) instead of reading as false.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(row: Option<Value>) -> AuthResult<Option<T>> {
    row.map(|r| {
        auth_core::rows::read::<T>(r).map_err(|e| {
            pgrx::log!("auth_ext: unreadable {} row: {}", e.row, e.problem);
            AuthError::Internal
        })
    })
    .transpose()
}

pub(crate) fn uuid(u: uuid::Uuid) -> pgrx::Uuid {
    pgrx::Uuid::from_bytes(*u.as_bytes())
}

pub(crate) fn to_uuid(u: pgrx::Uuid) -> uuid::Uuid {
    uuid::Uuid::from_bytes(*u.as_bytes())
}

/// Reads a string field of a row object.
pub(crate) fn str_field<'a>(row: &'a Value, key: &str) -> Option<&'a str> {
    row.get(key).and_then(Value::as_str)
}

/// [`json`] or [`read_json`], for code that serves both a fresh and a plain read.
pub(crate) type ReadFn = fn(&'static str, &[DatumWithOid]) -> AuthResult<Option<Value>>;
