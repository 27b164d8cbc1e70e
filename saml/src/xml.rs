//! Small XML helpers over roxmltree (which refuses any DTD unless told otherwise).

use roxmltree::{Document, Node, ParsingOptions};

pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The most nodes a Response may have: an assertion with a few dozen attributes is a few
/// hundred; a document past this is refused before anything else reads it.
const MAX_NODES: u32 = 20_000;

/// Parses `text` strictly: no DTD (so no entity of any kind), well-formed, bounded.
pub fn parse(text: &str) -> Result<Document<'_>, roxmltree::Error> {
    Document::parse_with_options(
        text,
        ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_NODES,
        },
    )
}

/// Whether the bytes declare a DTD or an entity anywhere: refused before any parser sees them
/// (XXE, billion laughs), whatever the parser's own settings.
pub fn declares_dtd(bytes: &[u8]) -> bool {
    let find = |needle: &[u8]| {
        bytes
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    };
    find(b"<!DOCTYPE") || find(b"<!ENTITY")
}

pub fn is(node: Node<'_, '_>, ns: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(ns)
}

pub fn children<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &'static str,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |c| is(*c, ns, name))
}

pub fn child<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &'static str,
    name: &'static str,
) -> Option<Node<'a, 'i>> {
    children(node, ns, name).next()
}

/// An element's text: every descendant text node, joined (a comment splitting a value does not
/// cut it short: `alice@example.com<!---->.evil.com` reads as `alice@example.com.evil.com`).
pub fn text(node: Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Escapes text for an attribute value or element content.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}
