//! Keys of `meta` for late records: how far each SLO's alerts were judged,
//! the minutes filed behind that, and the late episodes of each alert.

use super::{Reader, push_str};

/// `judged/`, then the SLO: the minute its alerts were last judged at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JudgedKey<'a>(pub &'a str);

impl<'a> JudgedKey<'a> {
    const PREFIX: &'static [u8] = b"judged/";

    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut key = Self::PREFIX.to_vec();
        push_str(&mut key, self.0);
        key
    }

    /// Reads back what [`JudgedKey::encode`] wrote.
    pub fn parse(key: &'a [u8]) -> Option<Self> {
        let mut r = Reader(key.strip_prefix(Self::PREFIX)?);
        let slo = r.str()?;
        r.end(JudgedKey(slo))
    }
}

/// `late/`, then the SLO: the minutes of the records filed behind its
/// judged minute since its alerts last looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateKey<'a>(pub &'a str);

impl<'a> LateKey<'a> {
    const PREFIX: &'static [u8] = b"late/";

    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut key = Self::PREFIX.to_vec();
        push_str(&mut key, self.0);
        key
    }

    /// Reads back what [`LateKey::encode`] wrote.
    pub fn parse(key: &'a [u8]) -> Option<Self> {
        let mut r = Reader(key.strip_prefix(Self::PREFIX)?);
        let slo = r.str()?;
        r.end(LateKey(slo))
    }
}

/// `late-episode/`, then the SLO and the alert: the spans of minutes late
/// records made the alert fire for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateEpisodeKey<'a> {
    /// The SLO.
    pub slo: &'a str,
    /// The alert, as named.
    pub alert: &'a str,
}

impl<'a> LateEpisodeKey<'a> {
    const PREFIX: &'static [u8] = b"late-episode/";

    /// The key's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut key = Self::PREFIX.to_vec();
        push_str(&mut key, self.slo);
        push_str(&mut key, self.alert);
        key
    }

    /// Reads back what [`LateEpisodeKey::encode`] wrote.
    pub fn parse(key: &'a [u8]) -> Option<Self> {
        let mut r = Reader(key.strip_prefix(Self::PREFIX)?);
        let slo = r.str()?;
        let alert = r.str()?;
        r.end(LateEpisodeKey { slo, alert })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_keys_round_trip_and_do_not_parse_as_each_other() {
        let judged = JudgedKey("orders").encode();
        let late = LateKey("orders").encode();
        let episode = LateEpisodeKey {
            slo: "orders",
            alert: "page:1h/5m",
        }
        .encode();
        assert_eq!(JudgedKey::parse(&judged), Some(JudgedKey("orders")));
        assert_eq!(LateKey::parse(&late), Some(LateKey("orders")));
        assert_eq!(
            LateEpisodeKey::parse(&episode).map(|k| k.alert),
            Some("page:1h/5m")
        );
        assert_eq!(LateKey::parse(&judged), None);
        assert_eq!(JudgedKey::parse(&episode), None);
    }
}
