//! Netlink attribute (NLA) framing: `struct nlattr { u16 len; u16 type; }`
//! followed by the payload, padded to 4 bytes (`NLA_ALIGNTO`).
//!
//! Integers are in host byte order except where the kernel says `__be16` /
//! `__be32` (ports, IPv4 netmask, IPv4 multicast group); callers choose.

use crate::error::DecodeError;

/// The kernel's `NLA_F_NESTED` bit; libnl (and so ipvsadm) sets it on nested
/// attributes, and so do we, to match ipvsadm's bytes.
pub const NLA_F_NESTED: u16 = 0x8000;
/// The kernel's `NLA_F_NET_BYTEORDER` bit.
pub const NLA_F_NET_BYTEORDER: u16 = 0x4000;
const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
const NLA_HEADER_LEN: usize = 4;

/// Rounds `len` up to the 4-byte netlink alignment.
pub const fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// Appends attributes to a buffer.
#[derive(Debug, Default)]
pub struct NlaWriter {
    buf: Vec<u8>,
}

impl NlaWriter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// One attribute with an opaque payload. A payload too large for the
    /// 16-bit length cannot come from this crate's types (the largest is a
    /// nested service of a few hundred bytes), so it is a caller bug reported
    /// as an encode error rather than silently truncated.
    pub fn put(&mut self, kind: u16, payload: &[u8]) -> Result<(), EncodeError> {
        let len = payload
            .len()
            .checked_add(NLA_HEADER_LEN)
            .and_then(|len| u16::try_from(len).ok())
            .ok_or(EncodeError::AttributeTooLong { kind })?;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(payload);
        self.buf.resize(align4(self.buf.len()), 0);
        Ok(())
    }

    pub fn put_u8(&mut self, kind: u16, value: u8) -> Result<(), EncodeError> {
        self.put(kind, &[value])
    }

    pub fn put_u16(&mut self, kind: u16, value: u16) -> Result<(), EncodeError> {
        self.put(kind, &value.to_ne_bytes())
    }

    pub fn put_be16(&mut self, kind: u16, value: u16) -> Result<(), EncodeError> {
        self.put(kind, &value.to_be_bytes())
    }

    pub fn put_u32(&mut self, kind: u16, value: u32) -> Result<(), EncodeError> {
        self.put(kind, &value.to_ne_bytes())
    }

    pub fn put_u64(&mut self, kind: u16, value: u64) -> Result<(), EncodeError> {
        self.put(kind, &value.to_ne_bytes())
    }

    /// A NUL-terminated string (`NLA_NUL_STRING` / `NLA_STRING` as libnl's
    /// `NLA_PUT_STRING` sends it).
    pub fn put_cstr(&mut self, kind: u16, value: &str) -> Result<(), EncodeError> {
        if value.as_bytes().contains(&0) {
            return Err(EncodeError::InteriorNul { kind });
        }
        let mut bytes = Vec::with_capacity(value.len() + 1);
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
        self.put(kind, &bytes)
    }

    /// A nested attribute (flagged `NLA_F_NESTED`) holding `inner`'s bytes.
    pub fn put_nested(&mut self, kind: u16, inner: NlaWriter) -> Result<(), EncodeError> {
        self.put(kind | NLA_F_NESTED, &inner.buf)
    }
}

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("attribute {kind} is longer than 65531 bytes")]
    AttributeTooLong { kind: u16 },
    #[error("string for attribute {kind} contains a NUL byte")]
    InteriorNul { kind: u16 },
    #[error("{what} is {len} bytes, the kernel allows at most {max}")]
    StringTooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{0}")]
    Invalid(&'static str),
}

/// One attribute as found in a buffer: its type (flag bits removed) and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawNla<'a> {
    pub kind: u16,
    pub payload: &'a [u8],
}

/// Iterates over a run of attributes; a malformed header ends the run with an
/// error instead of reading out of bounds.
pub struct NlaIter<'a> {
    rest: &'a [u8],
}

pub fn iter(buf: &[u8]) -> NlaIter<'_> {
    NlaIter { rest: buf }
}

impl<'a> Iterator for NlaIter<'a> {
    type Item = Result<RawNla<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        // Anything shorter than a header is trailing padding only if it is zero.
        let header = match self.rest.get(..NLA_HEADER_LEN) {
            Some(header) => header,
            None => {
                let trailing = std::mem::take(&mut self.rest);
                return if trailing.iter().all(|&b| b == 0) {
                    None
                } else {
                    Some(Err(DecodeError::Truncated {
                        what: "attribute header",
                    }))
                };
            }
        };
        let len = usize::from(u16::from_ne_bytes([header[0], header[1]]));
        let kind = u16::from_ne_bytes([header[2], header[3]]) & NLA_TYPE_MASK;
        let payload = match self.rest.get(NLA_HEADER_LEN..len) {
            Some(payload) if len >= NLA_HEADER_LEN => payload,
            _ => {
                self.rest = &[];
                return Some(Err(DecodeError::BadAttributeLength { kind, len }));
            }
        };
        self.rest = self.rest.get(align4(len)..).unwrap_or(&[]);
        Some(Ok(RawNla { kind, payload }))
    }
}

impl RawNla<'_> {
    fn fixed<const N: usize>(&self, what: &'static str) -> Result<[u8; N], DecodeError> {
        self.payload
            .get(..N)
            .and_then(|bytes| <[u8; N]>::try_from(bytes).ok())
            .filter(|_| self.payload.len() == N)
            .ok_or(DecodeError::BadPayloadLength {
                what,
                len: self.payload.len(),
            })
    }

    pub fn u8(&self, what: &'static str) -> Result<u8, DecodeError> {
        self.fixed::<1>(what).map(|b| b[0])
    }

    pub fn u16(&self, what: &'static str) -> Result<u16, DecodeError> {
        self.fixed(what).map(u16::from_ne_bytes)
    }

    pub fn be16(&self, what: &'static str) -> Result<u16, DecodeError> {
        self.fixed(what).map(u16::from_be_bytes)
    }

    pub fn u32(&self, what: &'static str) -> Result<u32, DecodeError> {
        self.fixed(what).map(u32::from_ne_bytes)
    }

    pub fn u64(&self, what: &'static str) -> Result<u64, DecodeError> {
        self.fixed(what).map(u64::from_ne_bytes)
    }

    /// A string attribute: up to the first NUL (the kernel always sends one).
    pub fn cstr(&self, what: &'static str) -> Result<String, DecodeError> {
        let end = self
            .payload
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.payload.len());
        let bytes = self.payload.get(..end).unwrap_or_default();
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::BadString { what })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // In tests a panic is the failure report.
mod tests {
    use super::*;

    #[test]
    fn writer_pads_to_four_bytes_and_counts_header_in_length() {
        let mut w = NlaWriter::new();
        w.put_cstr(6, "rr").unwrap();
        w.put_u16(1, 2).unwrap();
        assert_eq!(
            w.into_bytes(),
            [7, 0, 6, 0, b'r', b'r', 0, 0, 6, 0, 1, 0, 2, 0, 0, 0]
        );
    }

    #[test]
    fn iter_strips_flag_bits_and_reads_payloads() {
        let mut inner = NlaWriter::new();
        inner.put_u32(5, 42).unwrap();
        let mut w = NlaWriter::new();
        w.put_nested(1, inner).unwrap();
        let bytes = w.into_bytes();
        assert_eq!(bytes[3], 0x80, "NLA_F_NESTED set on the wire");
        let outer: Vec<_> = iter(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(outer.len(), 1);
        assert_eq!(outer[0].kind, 1);
        let inner: Vec<_> = iter(outer[0].payload).collect::<Result<_, _>>().unwrap();
        assert_eq!(inner[0].kind, 5);
        assert_eq!(inner[0].u32("mark").unwrap(), 42);
    }

    #[test]
    fn iter_reports_lengths_beyond_the_buffer() {
        let bytes = [200, 0, 1, 0, 0, 0, 0, 0];
        let got: Vec<_> = iter(&bytes).collect();
        assert_eq!(
            got,
            vec![Err(DecodeError::BadAttributeLength { kind: 1, len: 200 })]
        );
        let bytes = [2, 0, 1, 0];
        assert!(matches!(
            iter(&bytes).next(),
            Some(Err(DecodeError::BadAttributeLength { len: 2, .. }))
        ));
    }

    #[test]
    fn fixed_size_getters_reject_wrong_lengths() {
        let nla = RawNla {
            kind: 1,
            payload: &[1, 2, 3],
        };
        assert_eq!(
            nla.u32("x"),
            Err(DecodeError::BadPayloadLength { what: "x", len: 3 })
        );
        assert!(nla.u16("x").is_err());
    }

    #[test]
    fn strings_must_not_hold_nul() {
        let mut w = NlaWriter::new();
        assert_eq!(
            w.put_cstr(3, "a\0b"),
            Err(EncodeError::InteriorNul { kind: 3 })
        );
    }
}
