//! Feed bytes to text, finding the charset the way feed readers do.
//!
//! In order: a byte-order mark; the byte pattern of `<?xml` in UTF-16/32 (XML 1.0
//! appendix F); the HTTP charset, which outranks the document's own declaration (RFC 7303
//! §3); the XML declaration; UTF-8. A charset the bytes are not valid in gives way to the
//! next candidate, and windows-1252 (which reads any byte) is the last, so mislabelled feeds
//! still read, as readers read them.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

/// A document as text, and what it was read as.
pub(super) struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// The charset the text was read in (`"UTF-8"`, `"windows-1252"`, `"UTF-32BE"`, …).
    pub charset: &'static str,
}

pub(super) fn decode<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    let mut d = decode_charset(bytes, content_type);
    if has_c1(&d.text) {
        d.text = Cow::Owned(d.text.chars().map(demoronize).collect());
    }
    d
}

/// Whether `text` holds a C1 control character. In UTF-8 each is 0xC2 followed by 0x80–0x9F,
/// so the bytes are searched for 0xC2 rather than every character decoded: this runs over
/// every feed.
fn has_c1(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = bytes[from..].iter().position(|&b| b == 0xC2) {
        let at = from + at;
        if bytes.get(at + 1).is_some_and(|b| (0x80..=0x9F).contains(b)) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// C1 control characters (U+0080–U+009F) are never text: in a feed they are windows-1252
/// punctuation that went through a Latin-1 step (`don\u{92}t` for `don’t`). Readers map
/// them back, as HTML does for `&#146;`.
pub(super) fn demoronize(c: char) -> char {
    if !('\u{80}'..='\u{9f}').contains(&c) {
        return c;
    }
    let byte = [c as u32 as u8];
    WINDOWS_1252
        .decode_without_bom_handling(&byte)
        .0
        .chars()
        .next()
        .unwrap_or(c)
}

fn decode_charset<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    if let Some(d) = utf32(bytes) {
        return d;
    }
    if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom..]);
        return Decoded {
            text,
            charset: enc.name(),
        };
    }
    let sixteen = match bytes {
        [0, b'<', 0, b'?', ..] => Some(UTF_16BE),
        [b'<', 0, b'?', 0, ..] => Some(UTF_16LE),
        _ => None,
    };
    if let Some(enc) = sixteen {
        let (text, _) = enc.decode_without_bom_handling(bytes);
        return Decoded {
            text,
            charset: enc.name(),
        };
    }
    let http = content_type
        .and_then(charset_param)
        .and_then(ascii_compatible);
    let declared = declared_encoding(bytes).and_then(ascii_compatible);
    for enc in [http, declared, Some(UTF_8)].into_iter().flatten() {
        if let Some(text) = enc.decode_without_bom_handling_and_without_replacement(bytes) {
            return Decoded {
                text,
                charset: enc.name(),
            };
        }
    }
    let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
    Decoded {
        text,
        charset: WINDOWS_1252.name(),
    }
}

/// A label the document can be read in byte by byte. A UTF-16 label on a document without a
/// BOM or UTF-16 bytes is wrong (the bytes were ASCII-compatible up to the label).
fn ascii_compatible(label: &str) -> Option<&'static Encoding> {
    let enc = Encoding::for_label(label.trim().as_bytes())?;
    (enc != UTF_16BE && enc != UTF_16LE).then_some(enc)
}

/// `charset` of a `Content-Type` value: `text/xml; charset="utf-8"`, `charset= 'us-ascii'`,
/// `charset = us-ascii`. A malformed parameter (`charset:iso-8859-1`) is no charset.
pub fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(|c| c == '"' || c == '\''))
            .filter(|v| !v.is_empty())
    })
}

/// The `encoding` of the XML declaration, read from the ASCII-compatible start.
fn declared_encoding(bytes: &[u8]) -> Option<&str> {
    let head = &bytes[..bytes.len().min(512)];
    let head = std::str::from_utf8(head)
        .or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
        .ok()?;
    let decl = head.trim_start().strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    Some(&rest[..rest.find(quote)?])
}

/// UTF-32, which encoding_rs (a WHATWG implementation) does not read: by BOM or by the
/// pattern of `<`.
fn utf32(bytes: &[u8]) -> Option<Decoded<'static>> {
    let (big, skip) = match bytes {
        [0, 0, 0xFE, 0xFF, ..] => (true, 4),
        [0xFF, 0xFE, 0, 0, ..] => (false, 4),
        [0, 0, 0, b'<', ..] => (true, 0),
        [b'<', 0, 0, 0, ..] => (false, 0),
        _ => return None,
    };
    let text = bytes[skip..]
        .chunks(4)
        .map(|c| {
            let mut b = [0u8; 4];
            b[..c.len()].copy_from_slice(c);
            let n = if big {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            };
            char::from_u32(n).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect();
    Some(Decoded {
        text: Cow::Owned(text),
        charset: if big { "UTF-32BE" } else { "UTF-32LE" },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c1_characters_are_found_by_their_bytes() {
        for c in '\u{80}'..='\u{9f}' {
            assert!(has_c1(&format!("don{c}t")), "{c:?}");
        }
        for text in ["plain ascii", "£ and ¿ (0xC2 0xA3, 0xC2 0xBF)", "", "Â"] {
            assert!(!has_c1(text), "{text}");
        }
    }

    #[test]
    fn the_http_charset_outranks_the_declaration() {
        let doc = b"<?xml version='1.0' encoding='utf-8'?><rss>\xa3\x93x\x94</rss>";
        let d = decode(doc, Some("text/xml; charset=windows-1252"));
        assert_eq!(d.charset, "windows-1252");
        assert!(d.text.contains("\u{a3}\u{201c}x\u{201d}"), "{}", d.text);
    }

    #[test]
    fn the_declaration_is_read_without_an_http_charset() {
        let d = decode(
            b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><a>caf\xe9</a>",
            Some("application/xml"),
        );
        assert!(d.text.contains("caf\u{e9}"));
    }

    #[test]
    fn a_wrong_label_gives_way_to_what_the_bytes_are() {
        // Declared UTF-8, written in windows-1252: read as readers read it.
        let d = decode(
            b"<?xml version='1.0' encoding='utf-8'?><a>don\x92t</a>",
            None,
        );
        assert!(d.text.contains("don\u{2019}t"), "{}", d.text);
        // A UTF-16 label on ASCII bytes is not believed.
        let d = decode(b"<?xml version='1.0' encoding='utf-16'?><a>x</a>", None);
        assert_eq!(d.charset, "UTF-8");
    }

    #[test]
    fn utf16_and_utf32_are_found_with_or_without_a_bom() {
        let text = "<?xml version='1.0'?><a>\u{e9}</a>";
        let be16: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let le32: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let mut bom32 = vec![0, 0, 0xFE, 0xFF];
        bom32.extend(text.chars().flat_map(|c| (c as u32).to_be_bytes()));
        for (bytes, charset) in [(be16, "UTF-16BE"), (le32, "UTF-32LE"), (bom32, "UTF-32BE")] {
            let d = decode(&bytes, None);
            assert_eq!((d.text.as_ref(), d.charset), (text, charset));
        }
    }

    #[test]
    fn charset_parameters_as_servers_write_them() {
        assert_eq!(
            charset_param("text/xml;charset= 'us-ascii'"),
            Some("us-ascii")
        );
        assert_eq!(
            charset_param("text/xml; charset = \"utf-8\""),
            Some("utf-8")
        );
        assert_eq!(charset_param("text/xml; charset:iso-8859-1"), None);
        assert_eq!(charset_param("text/xml;"), None);
    }
}
