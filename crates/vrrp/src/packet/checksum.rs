//! The Internet checksum (RFC 1071) and the pseudo-headers VRRP uses.
//!
//! - VRRPv2 over IPv4: plain checksum over the VRRP message including the 8 bytes of
//!   authentication data (RFC 3768 §5.3.8).
//! - VRRPv3 over IPv4: the IPv4 pseudo-header (src, dst, 0, 112, VRRP length) is
//!   included (RFC 5798 §5.2.8); keepalived: `vrrp_build_vrrp_v3()`.
//! - VRRP over IPv6: the IPv6 pseudo-header (src, dst, length, 0, 112), as the kernel
//!   computes it with `IPV6_CHECKSUM` (RFC 2460 §8.1).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::IPPROTO_VRRP;

/// A running one's-complement sum of big-endian 16-bit words.
#[derive(Debug, Clone, Copy, Default)]
pub struct Accumulator(u32);

impl Accumulator {
    pub fn new() -> Self {
        Self(0)
    }

    /// Adds `bytes` as big-endian 16-bit words; an odd trailing byte is padded with zero.
    /// Every caller feeds even-length pieces except possibly the last one.
    pub fn add_bytes(mut self, bytes: &[u8]) -> Self {
        let mut chunks = bytes.chunks_exact(2);
        for pair in &mut chunks {
            if let [hi, lo] = pair {
                self.0 += u32::from(u16::from_be_bytes([*hi, *lo]));
                self = self.fold_once();
            }
        }
        if let [last] = chunks.remainder() {
            self.0 += u32::from(u16::from_be_bytes([*last, 0]));
            self = self.fold_once();
        }
        self
    }

    pub fn add_u16(mut self, word: u16) -> Self {
        self.0 += u32::from(word);
        self.fold_once()
    }

    fn fold_once(self) -> Self {
        // Keeps the sum below 2^17, so additions of u16 never overflow.
        Self((self.0 & 0xffff) + (self.0 >> 16))
    }

    /// The checksum to put on the wire: the one's complement of the folded sum.
    /// Over a message that already holds a correct checksum this yields 0.
    pub fn finish(self) -> u16 {
        let folded = self.fold_once().fold_once();
        // After two folds the value fits in 16 bits.
        !u16::try_from(folded.0).unwrap_or(u16::MAX)
    }
}

/// RFC 1071 checksum of one buffer.
pub fn internet_checksum(bytes: &[u8]) -> u16 {
    Accumulator::new().add_bytes(bytes).finish()
}

/// Sum of the IPv4 pseudo-header used by VRRPv3 (RFC 5798 §5.2.8).
pub fn ipv4_pseudo_header(source: Ipv4Addr, destination: Ipv4Addr, vrrp_len: u16) -> Accumulator {
    Accumulator::new()
        .add_bytes(&source.octets())
        .add_bytes(&destination.octets())
        .add_bytes(&[0, IPPROTO_VRRP])
        .add_u16(vrrp_len)
}

/// Sum of the IPv6 upper-layer pseudo-header (RFC 8200 §8.1).
pub fn ipv6_pseudo_header(source: Ipv6Addr, destination: Ipv6Addr, vrrp_len: u16) -> Accumulator {
    Accumulator::new()
        .add_bytes(&source.octets())
        .add_bytes(&destination.octets())
        .add_u16(0) // upper half of the 32-bit length: VRRP messages are < 64 KiB
        .add_u16(vrrp_len)
        .add_bytes(&[0, 0, 0, IPPROTO_VRRP])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3 worked example: sum 0xddf2, checksum 0x220d.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet_checksum(&data), 0x220d);
    }

    #[test]
    fn verifying_a_checksummed_buffer_gives_zero() {
        let mut data = vec![0x45, 0xc0, 0x00, 0x28, 0x12, 0x34, 0, 0, 0xff, 0x70, 0, 0];
        let sum = internet_checksum(&data);
        let [hi, lo] = sum.to_be_bytes();
        data[10] = hi;
        data[11] = lo;
        assert_eq!(internet_checksum(&data), 0);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(internet_checksum(&[0x12]), !0x1200);
    }
}
