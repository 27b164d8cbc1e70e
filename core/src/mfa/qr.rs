//! The enrolment QR code of a TOTP factor, as SVG.
//!
//! GoTrue sends `totp.qr_code` as bare SVG text (boombuler/barcode at error correction level H,
//! drawn by goqrsvg) and supabase-js's `mfa.enroll()` prepends `data:image/svg+xml;utf-8,`
//! itself; [`svg`] is what goes over the wire, [`svg_data_url`] the prefixed form for other uses.
//!
//! The drawing uses named colours (`black`/`white`, as goqrsvg does) so that the unencoded SVG
//! holds no `#`, which would end a `data:` URL.

use qrcode::render::svg::Color;
use qrcode::{EcLevel, QrCode};

/// The prefix of GoTrue's (and supabase-js's) QR data URL.
pub const DATA_URL_PREFIX: &str = "data:image/svg+xml;utf-8,";

/// Pixels per module (GoTrue's `DefaultQRSize`).
const MODULE_PX: u32 = 3;

/// The QR code of `uri` as an SVG document. Level H as GoTrue uses, falling back to lower levels
/// for a long URI; `None` if even level L cannot hold it (about 2,900 bytes: a caller-chosen
/// issuer of that size), which GoTrue would answer with a 500.
pub fn svg(uri: &str) -> Option<String> {
    let code = [EcLevel::H, EcLevel::Q, EcLevel::M, EcLevel::L]
        .into_iter()
        .find_map(|level| QrCode::with_error_correction_level(uri, level).ok())?;
    Some(
        code.render::<Color>()
            .dark_color(Color("black"))
            .light_color(Color("white"))
            .module_dimensions(MODULE_PX, MODULE_PX)
            .build(),
    )
}

/// [`svg`] behind `data:image/svg+xml;utf-8,`, the form supabase-js hands to applications.
pub fn svg_data_url(uri: &str) -> Option<String> {
    svg(uri).map(|s| format!("{DATA_URL_PREFIX}{s}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "otpauth://totp/example.com:alice@example.com?algorithm=SHA1&digits=6\
                       &issuer=example.com&period=30&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    #[test]
    fn data_url_of_an_svg() {
        let url = svg_data_url(URI).unwrap();
        assert!(url.starts_with("data:image/svg+xml;utf-8,"));
        assert!(url.contains("<svg"));
        assert!(url.ends_with("</svg>"));
        assert!(!url.contains('#'), "a # would end the data URL");
    }

    #[test]
    fn bare_svg_for_the_wire() {
        let s = svg(URI).unwrap();
        assert!(s.contains("<svg") && !s.starts_with("data:"));
        // 137 bytes at level H: version 11 (61 modules) plus a 4-module quiet zone either side,
        // 3 px each.
        assert!(s.contains(r#"width="207" height="207""#), "{}", &s[..200]);
    }

    #[test]
    fn long_uris_fall_back_then_give_up() {
        let long = format!("{URI}&x={}", "A".repeat(1500));
        assert!(svg(&long).is_some());
        let too_long = format!("{URI}&x={}", "A".repeat(5000));
        assert_eq!(svg(&too_long), None);
    }
}
