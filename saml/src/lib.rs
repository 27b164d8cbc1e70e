//! A SAML 2.0 service provider's XML half for auth_ext's shim (docs/sso.md):
//!
//! - [`request`]: the AuthnRequest (HTTP-Redirect binding: deflate, base64, query) and the SP's
//!   metadata document;
//! - [`verify_response`]: the checks of a `SAMLResponse` posted to the ACS, refusing unsigned,
//!   wrapped (XSW), expired, misaddressed and oversized responses and any DTD.
//!
//! The XML signature itself is checked by libxmlsec1 (through samael's bindings), which also
//! hands back the pre-digest bytes of the one signed element: the assertion is read from those
//! bytes, never from the document as posted. Replays are the caller's to refuse: the request ID
//! (the relay state) is taken once, and an unsolicited assertion's ID is kept until it expires.

pub mod request;
mod verify;
mod xml;

pub use verify::{
    peek_issuer, verify_response, verify_response_with, Assertion, Attribute, Layers, Refusal,
};
