//! SegmentTemplate URL expansion (ISO/IEC 23009-1 § 5.3.9.4.4): `$RepresentationID$`, `$Number$`,
//! `$Bandwidth$`, `$Time$`, each with an optional `%0Nd` width, and `$$`. The checker and the origin expand
//! an MPD's templates with it to find the files the MPD names.

/// The values one segment's URL is built from.
#[derive(Debug, Clone, Copy)]
pub struct Vars<'a> {
    pub representation_id: &'a str,
    pub number: u64,
    pub bandwidth: u64,
    pub time: u64,
}

/// `template` with every identifier replaced; an unknown identifier, a bad format tag or an unclosed `$` is
/// an error naming it.
pub fn expand(template: &str, vars: &Vars<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 8);
    let mut rest = template;
    while let Some(open) = rest.find('$') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('$')
            .ok_or_else(|| format!("{template:?}: a '$' is not closed"))?;
        let ident = &after[..close];
        rest = &after[close + 1..];
        if ident.is_empty() {
            out.push('$');
            continue;
        }
        let (name, format) = match ident.find('%') {
            Some(i) => (&ident[..i], Some(&ident[i..])),
            None => (ident, None),
        };
        let value = match name {
            "RepresentationID" if format.is_none() => {
                out.push_str(vars.representation_id);
                continue;
            }
            "Number" => vars.number,
            "Bandwidth" => vars.bandwidth,
            "Time" => vars.time,
            _ => return Err(format!("{template:?}: unknown identifier ${ident}$")),
        };
        match format {
            None => out.push_str(&value.to_string()),
            Some(f) => {
                let width = f
                    .strip_prefix("%0")
                    .and_then(|w| w.strip_suffix('d'))
                    .and_then(|w| w.parse::<usize>().ok())
                    .filter(|w| *w <= 20)
                    .ok_or_else(|| format!("{template:?}: bad format tag {f:?} (only %0Nd)"))?;
                out.push_str(&format!("{value:0width$}"));
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: Vars<'static> = Vars {
        representation_id: "v-720p",
        number: 7,
        bandwidth: 1000,
        time: 90000,
    };

    #[test]
    fn expands() {
        assert_eq!(
            expand("video/seg_$Number%05d$.m4s", &V).unwrap(),
            "video/seg_00007.m4s"
        );
        assert_eq!(
            expand("$RepresentationID$/$Time$-$Bandwidth$-$$-$Number$.m4s", &V).unwrap(),
            "v-720p/90000-1000-$-7.m4s"
        );
        assert_eq!(
            expand(crate::dash::write::NUMBER_TEMPLATE, &V).unwrap(),
            crate::layout::segment_name(6)
        );
    }

    #[test]
    fn refuses() {
        for t in [
            "seg_$Number.m4s",
            "$Foo$",
            "$Number%5d$",
            "$Number%05x$",
            "$RepresentationID%03d$",
        ] {
            assert!(expand(t, &V).is_err(), "{t}");
        }
    }
}
