//! The stream's clocks: the media clock a returning publisher continues (its timestamps restart, the
//! stream's must not go back: the recording is one timeline), and the wall clock each part is stamped with
//! (`EXT-X-PROGRAM-DATE-TIME`): the arrival of a publisher's first tag, plus media time since then.
use std::time::{Duration, SystemTime};

use upcast_core::live::Part;

pub struct Clock {
    /// Added (mod 2^32) to every RTMP timestamp of this publisher.
    offset: Option<u32>,
    /// Where the previous publisher's media ended (µs), if one did.
    continue_from_us: Option<i64>,
    /// Wall clock at the first tag, and that tag's time on the stream's clock (µs).
    anchor: Option<(SystemTime, i64)>,
}

impl Clock {
    pub fn new(continue_from_us: Option<i64>) -> Clock {
        Clock {
            offset: None,
            continue_from_us,
            anchor: None,
        }
    }

    /// A tag's timestamp on the stream's clock: this publisher's first tag lands where the previous
    /// publisher's media ended (a whole millisecond later, never earlier).
    pub fn map(&mut self, ts_ms: u32) -> u32 {
        let continue_from = self.continue_from_us;
        let offset = *self.offset.get_or_insert_with(|| match continue_from {
            // Mod 2^32: RTMP's clock wraps, and the muxer extends it across the wrap.
            Some(end_us) => {
                let end_ms = end_us.div_euclid(1000) + 1;
                let low = u32::try_from(end_ms.rem_euclid(1 << 32)).unwrap_or(0);
                low.wrapping_sub(ts_ms)
            }
            None => 0,
        });
        let t = ts_ms.wrapping_add(offset);
        if self.anchor.is_none() {
            self.anchor = Some((SystemTime::now(), i64::from(t) * 1000));
        }
        t
    }

    /// The program date-time of a part: its media time after the anchor, on the anchor's wall clock.
    pub fn pdt(&self, part: &Part) -> SystemTime {
        let (wall, media_us) = self.anchor.unwrap_or((SystemTime::now(), 0));
        let at_us = start_us(part);
        let d = Duration::from_micros(at_us.abs_diff(media_us));
        if at_us >= media_us {
            wall + d
        } else {
            wall.checked_sub(d).unwrap_or(wall)
        }
    }
}

/// How far before a part's arrival its capture time may lie: a publisher's clock that claims more (a
/// skewed clock, a stale header) is clamped to it.
pub const MAX_CAPTURE_LEAD: Duration = Duration::from_secs(5);

/// The program date-time anchor of an HTTP publish: `(wall clock, media µs)` that stand for each other.
/// Without a capture clock, the first part's arrival stands for its end (`end_us`). With one
/// (`capture_ms`: the wall clock at media time 0, from `X-Upcast-Part: capture=`), media time 0 is that
/// instant, clamped so that the part's end is never after its arrival (`now`) nor more than
/// [`MAX_CAPTURE_LEAD`] before it.
pub fn http_anchor(now: SystemTime, capture_ms: Option<u64>, end_us: i64) -> (SystemTime, i64) {
    let Some(ms) = capture_ms else {
        return (now, end_us);
    };
    let end = Duration::from_micros(u64::try_from(end_us).unwrap_or(0));
    let claimed_end = SystemTime::UNIX_EPOCH + Duration::from_millis(ms) + end;
    let earliest_end = now.checked_sub(MAX_CAPTURE_LEAD).unwrap_or(now);
    let part_end = claimed_end.clamp(earliest_end, now);
    (part_end.checked_sub(end).unwrap_or(part_end), 0)
}

/// A part's start on the stream's clock, µs.
pub fn start_us(part: &Part) -> i64 {
    ticks_us(part.start, part.timescale)
}

/// A part's end on the stream's clock, µs.
pub fn end_us(part: &Part) -> i64 {
    ticks_us(part.start.saturating_add(part.duration), part.timescale)
}

fn ticks_us(ticks: u64, timescale: u32) -> i64 {
    let us = u128::from(ticks) * 1_000_000 / u128::from(timescale.max(1));
    i64::try_from(us).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_clock_is_clamped_to_the_arrival() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let now_ms = 1_800_000_000_000u64;
        // No capture clock: the arrival stands for the part's end.
        assert_eq!(http_anchor(now, None, 500_000), (now, 500_000));
        // Captured 1.2 s before the part's end arrived: media 0 is then.
        let (w, m) = http_anchor(now, Some(now_ms - 1_700), 500_000);
        assert_eq!((w, m), (now - Duration::from_millis(1_700), 0));
        // In the future: the part's end is its arrival.
        let (w, _) = http_anchor(now, Some(now_ms + 60_000), 500_000);
        assert_eq!(w, now - Duration::from_millis(500));
        // Far in the past: at most the lead before the arrival.
        let (w, _) = http_anchor(now, Some(1), 500_000);
        assert_eq!(w, now - MAX_CAPTURE_LEAD - Duration::from_millis(500));
    }
}
