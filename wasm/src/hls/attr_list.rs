//! Attribute lists (RFC 8216bis § 4.2): `NAME=value` pairs separated by commas, where a value is a
//! quoted-string (`"…"`: any characters but `"`, commas included) or an unquoted token running to the next
//! comma (enumerated-string, decimal, hexadecimal, resolution).
//!
//! The parse is strict where a lenient parser could see something else: hls.js splits lists with the regex
//! `(.+?)=(".*?"|.*?)(?:,|$)` (src/utils/attr-list.ts), which reads an unterminated quote, junk after a
//! closing quote or an empty item as part of some other pair, and so would still follow a `URI=` the list
//! hides. Every list this parser accepts splits into exactly the pairs that regex finds (names trimmed, as
//! hls.js trims them); anything else is an error, never a guess.

/// One `NAME=value` pair, borrowed from the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    pub name: &'a str,
    /// The value without its quotes.
    pub value: &'a str,
    pub quoted: bool,
}

/// Spaces and tabs around a name: not in the RFC grammar, but common (`A=1, B=2`) and trimmed by hls.js.
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Parse an attribute list (the text after a tag's colon). A trailing comma is allowed (hls.js and many
/// writers accept it); an empty item, a name outside `[A-Z0-9-]`, a missing `=`, an unterminated or
/// embedded quote, or anything after a closing quote other than a comma is an error.
pub fn parse(list: &str) -> Result<Vec<Attr<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = list;
    loop {
        let item = rest.trim_start_matches(is_blank);
        if item.is_empty() {
            if out.is_empty() {
                return Err("empty attribute list".into());
            }
            return Ok(out); // end of list, or a trailing comma
        }
        let eq = item
            .find('=')
            .ok_or_else(|| format!("{:?} has no '='", cut(item)))?;
        let name = item[..eq].trim_end_matches(is_blank);
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(format!(
                "attribute name {:?} is not [A-Z0-9-]+",
                cut(&item[..eq])
            ));
        }
        let after = &item[eq + 1..];
        let (value, quoted, tail) = if let Some(q) = after.strip_prefix('"') {
            let close = q
                .find('"')
                .ok_or_else(|| format!("{name}: quoted-string without its closing quote"))?;
            (&q[..close], true, &q[close + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            let v = &after[..end];
            if v.contains('"') {
                return Err(format!("{name}: a quote inside an unquoted value"));
            }
            (v, false, &after[end..])
        };
        out.push(Attr {
            name,
            value,
            quoted,
        });
        match tail.strip_prefix(',') {
            Some(next) => rest = next,
            None if tail.is_empty() => return Ok(out),
            None => {
                return Err(format!(
                    "{name}: {:?} after the closing quote (expected ',')",
                    cut(tail)
                ))
            }
        }
    }
}

/// The first 40 characters of `s`, for messages.
fn cut(s: &str) -> &str {
    s.char_indices().nth(40).map_or(s, |(i, _)| &s[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &str) -> Vec<(&str, &str, bool)> {
        parse(list)
            .unwrap()
            .into_iter()
            .map(|a| (a.name, a.value, a.quoted))
            .collect()
    }

    #[test]
    fn quoted_and_unquoted_values() {
        assert_eq!(
            pairs(r#"METHOD=AES-128,URI="k.bin",IV=0x0102"#),
            [
                ("METHOD", "AES-128", false),
                ("URI", "k.bin", true),
                ("IV", "0x0102", false)
            ]
        );
        assert_eq!(
            pairs("BANDWIDTH=1,RESOLUTION=160x90"),
            [("BANDWIDTH", "1", false), ("RESOLUTION", "160x90", false)]
        );
    }

    #[test]
    fn commas_and_equals_inside_quotes_stay_in_the_value() {
        assert_eq!(
            pairs(r#"CODECS="avc1.64000b,mp4a.40.2",NAME="a=b, URI=http://x/",URI=v.m3u8"#),
            [
                ("CODECS", "avc1.64000b,mp4a.40.2", true),
                ("NAME", "a=b, URI=http://x/", true),
                ("URI", "v.m3u8", false)
            ]
        );
    }

    #[test]
    fn unquoted_values_run_to_the_comma() {
        assert_eq!(
            pairs("SERVER-URI=http://127.0.0.2:9/steer.json?a=b,PATHWAY-ID=x"),
            [
                ("SERVER-URI", "http://127.0.0.2:9/steer.json?a=b", false),
                ("PATHWAY-ID", "x", false)
            ]
        );
        assert_eq!(pairs("URI="), [("URI", "", false)]);
    }

    #[test]
    fn blanks_around_names_and_a_trailing_comma_are_accepted() {
        assert_eq!(
            pairs("A=1, B=2 ,\tURI =x,"),
            [("A", "1", false), ("B", "2 ", false), ("URI", "x", false)]
        );
    }

    #[test]
    fn malformed_lists_are_errors() {
        for bad in [
            "",
            " ",
            ",",
            "A=1,,URI=x",
            "URI",
            "A=1,junk,URI=http://x/",
            r#"URI="http://x/"#,
            r#"X="a,URI=http://x/"#,
            r#"URI="a"x,B=1"#,
            r#"URI="a" ,B=1"#,
            r#"URI = "a""#,
            r#"URI=a"b"#,
            r#"URI="a"""#,
            "uri=http://x/",
            "=x",
            "A B=1",
            "A\u{e9}=1",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed: {:?}", parse(bad));
        }
    }
}
