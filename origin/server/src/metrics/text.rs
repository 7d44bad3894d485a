//! The Prometheus text exposition format 0.0.4: `# HELP`, `# TYPE`, then one `name{labels} value` line per
//! series. Label values are escaped as the format says (backslash, double quote, line feed).
use std::fmt::Write;
use std::sync::atomic::Ordering;

use super::{lock, Class, Metrics};

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Escape a label value.
pub fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: u64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

impl Metrics {
    /// Every family in the text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let n = "upcast_http_requests_total";
        family(
            &mut out,
            n,
            "counter",
            "HTTP responses, by route class and status code.",
        );
        for ((class, status), v) in lock(&self.requests).iter() {
            let status = status.to_string();
            sample(
                &mut out,
                n,
                &[("class", class.as_str()), ("status", &status)],
                *v,
            );
        }
        let n = "upcast_http_response_bytes_total";
        family(
            &mut out,
            n,
            "counter",
            "Response body bytes sent, by route class.",
        );
        for class in Class::ALL {
            let v = self.bytes[class.index()].load(Ordering::Relaxed);
            sample(&mut out, n, &[("class", class.as_str())], v);
        }
        let streams = lock(&self.streams).clone();
        let n = "upcast_live_streams";
        family(&mut out, n, "gauge", "Streams live now.");
        sample(
            &mut out,
            n,
            &[],
            u64::try_from(streams.len()).unwrap_or(u64::MAX),
        );
        let n = "upcast_ingest_bitrate_bits";
        family(
            &mut out,
            n,
            "gauge",
            "Ingest bitrate of each live stream, bits per second.",
        );
        for (id, s) in streams.iter().filter_map(|(id, s)| Some((id, (*s)?))) {
            sample(&mut out, n, &[("stream", id)], s.ingest_bits_per_sec);
        }
        let n = "upcast_live_viewers";
        family(
            &mut out,
            n,
            "gauge",
            "Approximate current viewers of each live stream.",
        );
        for (id, s) in streams.iter().filter_map(|(id, s)| Some((id, (*s)?))) {
            sample(&mut out, n, &[("stream", id)], s.viewers);
        }
        let n = "upcast_publish_refused_total";
        family(
            &mut out,
            n,
            "counter",
            "Refused publishes (VOD and live), by reason.",
        );
        for (reason, v) in lock(&self.refused).iter() {
            sample(&mut out, n, &[("reason", reason)], *v);
        }
        let n = "upcast_blocked_reload_waits_total";
        family(
            &mut out,
            n,
            "counter",
            "Blocking playlist reloads that waited.",
        );
        sample(&mut out, n, &[], self.blocked_total.load(Ordering::Relaxed));
        let n = "upcast_blocked_reload_waits_in_flight";
        family(
            &mut out,
            n,
            "gauge",
            "Blocking playlist reloads waiting now.",
        );
        sample(
            &mut out,
            n,
            &[],
            self.blocked_in_flight.load(Ordering::Relaxed),
        );
        let n = "upcast_webhook_deliveries_total";
        family(
            &mut out,
            n,
            "counter",
            "Webhook delivery attempts, by outcome.",
        );
        for (outcome, v) in lock(&self.deliveries).iter() {
            sample(&mut out, n, &[("outcome", outcome)], *v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_label_values() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn stream_series_come_and_go() {
        let m = Metrics::new();
        m.stream_live("s\"1");
        m.ingest_bitrate("s\"1", 2_500_000);
        m.viewers("s\"1", 7);
        let t = m.render();
        assert!(t.contains("upcast_live_streams 1\n"), "{t}");
        assert!(
            t.contains("upcast_ingest_bitrate_bits{stream=\"s\\\"1\"} 2500000\n"),
            "{t}"
        );
        assert!(
            t.contains("upcast_live_viewers{stream=\"s\\\"1\"} 7\n"),
            "{t}"
        );
        m.stream_ended("s\"1");
        let t = m.render();
        assert!(t.contains("upcast_live_streams 0\n"), "{t}");
        assert!(!t.contains("stream="), "{t}");
    }

    #[test]
    fn blocked_waits_count_while_held() {
        let m = Metrics::new();
        let a = m.blocked_wait_started();
        let b = m.blocked_wait_started();
        drop(a);
        let t = m.render();
        assert!(t.contains("upcast_blocked_reload_waits_total 2\n"), "{t}");
        assert!(
            t.contains("upcast_blocked_reload_waits_in_flight 1\n"),
            "{t}"
        );
        drop(b);
        assert!(m
            .render()
            .contains("upcast_blocked_reload_waits_in_flight 0\n"));
    }
}
