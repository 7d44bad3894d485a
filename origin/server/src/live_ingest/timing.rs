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
