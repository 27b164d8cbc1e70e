//! Reading the rows a security decision is made from. Every such statement returns one `jsonb`
//! object, read here into a typed struct: a missing, misnamed or mistyped field is an error, so
//! a statement edited to drop (or rename) the ban check refuses everyone instead of admitting
//! them. `Option` fields must be present too (as `null`): serde's implicit default for a
//! missing `Option` is switched off with [`required`].

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Why a row could not be read: which struct, and serde's account of the field ("missing field
/// `banned`", "invalid type: string, expected a boolean"), which names fields, not values.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub row: &'static str,
    pub problem: String,
}

/// Reads `row` into `T`, failing closed.
pub fn read<T: DeserializeOwned>(row: Value) -> Result<T, RowError> {
    serde_json::from_value(row).map_err(|e| RowError {
        row: std::any::type_name::<T>(),
        problem: e.to_string().chars().take(160).collect(),
    })
}

/// For `Option` fields: present, possibly `null`; absent is an error.
pub fn required<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}
