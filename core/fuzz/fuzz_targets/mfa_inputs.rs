#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| auth_core_fuzz::mfa_inputs(data));
