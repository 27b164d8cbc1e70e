//! One key per purpose, all derived from the instance's one master secret with HKDF-SHA256
//! (RFC 5869): a key leaked or misused in one place (a MAC that can be made to sign chosen
//! text, say) tells nothing about the others, and a new purpose needs no new stored secret.
//!
//! The master secret is the 32 random bytes stored in `auth.config.refresh_token_key` at install
//! time. Before 0.4.0 that value was itself the refresh-chain key and the claims-MAC key; chains
//! begun then are still walked with it ([`crate::refresh::find_descendant_across_upgrade`]).

use hkdf::Hkdf;
use sha2::Sha256;

/// Every key the extension derives; each is used for exactly one thing.
#[derive(Clone)]
pub struct DerivedKeys {
    /// Derives a refresh token's child from its parent.
    pub refresh_chain: [u8; 32],
    /// Marks the `request.jwt.claims` that `auth.authenticate()` set.
    pub claims_mac: [u8; 32],
    /// Hashes one-time codes (email and phone codes, links) before they are stored.
    pub one_time_code: [u8; 32],
    /// Encrypts TOTP secrets at rest.
    pub totp_encryption: [u8; 32],
    /// The master secret itself, only to walk refresh chains begun before 0.4.0.
    pub legacy_refresh_chain: Vec<u8>,
}

/// The HKDF `info` of each purpose: fixed, versioned, never reused for another purpose.
const REFRESH_CHAIN: &[u8] = b"auth_ext refresh-token chain v2";
const CLAIMS_MAC: &[u8] = b"auth_ext request.jwt.claims mac v2";
const ONE_TIME_CODE: &[u8] = b"auth_ext one-time code hash v1";
const TOTP_ENCRYPTION: &[u8] = b"auth_ext totp secret encryption v1";
const SALT: &[u8] = b"auth_ext derived keys";

impl DerivedKeys {
    pub fn from_master(master: &[u8]) -> DerivedKeys {
        let hk = Hkdf::<Sha256>::new(Some(SALT), master);
        let expand = |info: &[u8]| {
            let mut out = [0u8; 32];
            hk.expand(info, &mut out)
                .expect("32 bytes is a valid HKDF-SHA256 output length");
            out
        };
        DerivedKeys {
            refresh_chain: expand(REFRESH_CHAIN),
            claims_mac: expand(CLAIMS_MAC),
            one_time_code: expand(ONE_TIME_CODE),
            totp_encryption: expand(TOTP_ENCRYPTION),
            legacy_refresh_chain: master.to_vec(),
        }
    }
}

impl std::fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DerivedKeys(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5869_case_1() {
        // The HKDF implementation against RFC 5869's first test vector.
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let mut okm = [0u8; 42];
        Hkdf::<Sha256>::new(Some(&salt), &ikm)
            .expand(&info, &mut okm)
            .unwrap();
        let hex: String = okm.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
    }

    #[test]
    fn every_purpose_has_its_own_key() {
        let k = DerivedKeys::from_master(&[7u8; 32]);
        let all = [
            k.refresh_chain,
            k.claims_mac,
            k.one_time_code,
            k.totp_encryption,
        ];
        for (i, a) in all.iter().enumerate() {
            assert_ne!(&a[..], &k.legacy_refresh_chain[..], "not the master itself");
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // deterministic per master, different across masters
        assert_eq!(
            DerivedKeys::from_master(&[7u8; 32]).claims_mac,
            k.claims_mac
        );
        assert_ne!(
            DerivedKeys::from_master(&[8u8; 32]).claims_mac,
            k.claims_mac
        );
        assert_eq!(format!("{k:?}"), "DerivedKeys(..)", "Debug shows no key");
    }
}
