//! LANGUAGE attributes are RFC 5646 tags, which prefer the two-letter ISO 639-1 code where one exists;
//! MP4 stores ISO 639-2/T three-letter codes (mdhd). This maps the common ones and keeps the rest as they
//! are (a three-letter code is a valid RFC 5646 tag too).

const PAIRS: [(&str, &str); 40] = [
    ("ara", "ar"),
    ("ben", "bn"),
    ("bul", "bg"),
    ("ces", "cs"),
    ("cze", "cs"),
    ("chi", "zh"),
    ("zho", "zh"),
    ("dan", "da"),
    ("deu", "de"),
    ("ger", "de"),
    ("ell", "el"),
    ("gre", "el"),
    ("eng", "en"),
    ("spa", "es"),
    ("est", "et"),
    ("fin", "fi"),
    ("fra", "fr"),
    ("fre", "fr"),
    ("heb", "he"),
    ("hin", "hi"),
    ("hun", "hu"),
    ("ind", "id"),
    ("ita", "it"),
    ("jpn", "ja"),
    ("kor", "ko"),
    ("nld", "nl"),
    ("dut", "nl"),
    ("nor", "no"),
    ("pol", "pl"),
    ("por", "pt"),
    ("ron", "ro"),
    ("rum", "ro"),
    ("rus", "ru"),
    ("slk", "sk"),
    ("swe", "sv"),
    ("tha", "th"),
    ("tur", "tr"),
    ("ukr", "uk"),
    ("vie", "vi"),
    ("cat", "ca"),
];

/// The RFC 5646 tag for an ISO 639-2 code ("eng" → "en"); "und" (undetermined) stays "und", which is a
/// valid tag, so that LANGUAGE is always present (Apple HLS Authoring Spec 8.10).
pub fn rfc5646(iso639_2: &str) -> String {
    if iso639_2.is_empty() {
        return "und".into();
    }
    PAIRS
        .iter()
        .find(|(three, _)| *three == iso639_2)
        .map_or(iso639_2, |(_, two)| two)
        .to_string()
}

/// A human name for the NAME attribute.
pub fn display_name(iso639_2: &str) -> String {
    let name = match iso639_2 {
        "eng" => "English",
        "fra" | "fre" => "Français",
        "deu" | "ger" => "Deutsch",
        "spa" => "Español",
        "ita" => "Italiano",
        "por" => "Português",
        "nld" | "dut" => "Nederlands",
        "jpn" => "日本語",
        "zho" | "chi" => "中文",
        "kor" => "한국어",
        "rus" => "Русский",
        "und" | "" => "Audio",
        other => other,
    };
    name.to_string()
}
