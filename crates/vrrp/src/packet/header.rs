//! Fixed-layout headers: VRRP (v2 and v3), IPv4 and IPsec AH, parsed without panics.
//!
//! VRRPv2, RFC 3768 §5.1 (IPv4 only):
//!
//! ```text
//!     0                   1                   2                   3
//!     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |   Auth Type   |   Adver Int   |          Checksum             |
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |                         IP Address (1)                        |
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |                            .                                  |
//!    |                            .                                  |
//!    |                            .                                  |
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |                         IP Address (n)                        |
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |                     Authentication Data (1)                   |
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |                     Authentication Data (2)                   |
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! VRRPv3, RFC 5798 §5.1 (IPv4 or IPv6; interval in centiseconds, no auth data):
//!
//! ```text
//!     0                   1                   2                   3
//!     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |                    IPv4 Fields or IPv6 Fields                 |
//!   ...                                                             ...
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |(rsvd) |     Max Adver Int     |          Checksum             |
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |                                                               |
//!    +                                                               +
//!    |                       IPvX Address(es)                        |
//!    +                                                               +
//!    |                                                               |
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! IPsec AH, RFC 2402 §2 (keepalived's `ipsec_ah_t`, 96-bit ICV → 24 bytes):
//!
//! ```text
//!     0                   1                   2                   3
//!     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    | Next Header   |  Payload Len  |          RESERVED             |
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |                 Security Parameters Index (SPI)               |
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |                    Sequence Number Field                      |
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!    |                Authentication Data (96 bits)                  |
//!    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use std::net::Ipv4Addr;

/// Length of the fixed VRRP header (both versions).
pub const VRRP_HEADER_LEN: usize = 8;
/// Length of the VRRPv2 authentication data that follows the IPv4 addresses.
pub const VRRP_AUTH_DATA_LEN: usize = 8;
/// Length of an IPv4 header without options (keepalived always sends IHL 5).
pub const IPV4_HEADER_LEN: usize = 20;
/// Length of the AH header with a 96-bit ICV.
pub const AH_HEADER_LEN: usize = 24;
/// Length of the truncated HMAC-MD5 ICV (RFC 2403: HMAC-MD5-96).
pub const AH_ICV_LEN: usize = 12;
/// AH "Payload Len": length in 32-bit words minus 2 (keepalived `IPSEC_AH_PLEN`).
pub const AH_PAYLOAD_LEN: u8 = 4;
/// VRRP message type: ADVERTISEMENT is the only one defined (RFC 3768 §5.3.2).
pub const VRRP_TYPE_ADVERT: u8 = 1;

/// The 8-byte VRRP header as it sits on the wire, fields not yet interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VrrpHeader {
    /// Upper nibble of byte 0.
    pub version: u8,
    /// Lower nibble of byte 0.
    pub kind: u8,
    pub vrid: u8,
    pub priority: u8,
    pub address_count: u8,
    /// Bytes 4..6: v2 auth type + interval in seconds, v3 reserved bits + 12-bit interval.
    pub word: [u8; 2],
    pub checksum: u16,
}

impl VrrpHeader {
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let fixed: &[u8; VRRP_HEADER_LEN] = bytes.get(..VRRP_HEADER_LEN)?.try_into().ok()?;
        let [vers_type, vrid, priority, address_count, w0, w1, c0, c1] = *fixed;
        Some(Self {
            version: vers_type >> 4,
            kind: vers_type & 0x0f,
            vrid,
            priority,
            address_count,
            word: [w0, w1],
            checksum: u16::from_be_bytes([c0, c1]),
        })
    }

    /// VRRPv2 authentication type (RFC 3768 §5.3.6).
    pub fn v2_auth_type(&self) -> u8 {
        self.word[0]
    }

    /// VRRPv2 advertisement interval in seconds.
    pub fn v2_interval_secs(&self) -> u8 {
        self.word[1]
    }

    /// VRRPv3 Max Adver Int in centiseconds; keepalived masks off the reserved bits.
    pub fn v3_interval_cs(&self) -> u16 {
        u16::from_be_bytes(self.word) & 0x0fff
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        out.push((self.version << 4) | (self.kind & 0x0f));
        out.extend_from_slice(&[self.vrid, self.priority, self.address_count]);
        out.extend_from_slice(&self.word);
        out.extend_from_slice(&self.checksum.to_be_bytes());
    }
}

/// An IPv4 header (RFC 791 §3.1). Options are kept only as a length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Header {
    /// Header length in bytes (IHL × 4), 20..=60.
    pub header_len: usize,
    pub tos: u8,
    pub total_len: u16,
    pub id: u16,
    /// Flags and fragment offset.
    pub frag_off: u16,
    pub ttl: u8,
    pub protocol: u8,
    pub checksum: u16,
    pub source: Ipv4Addr,
    pub destination: Ipv4Addr,
}

/// Why bytes are not an IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv4HeaderError {
    Truncated,
    NotVersion4,
    BadHeaderLength,
}

impl Ipv4Header {
    pub fn parse(bytes: &[u8]) -> Result<Self, Ipv4HeaderError> {
        let fixed: &[u8; IPV4_HEADER_LEN] = bytes
            .get(..IPV4_HEADER_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(Ipv4HeaderError::Truncated)?;
        let [
            ver_ihl,
            tos,
            l0,
            l1,
            i0,
            i1,
            f0,
            f1,
            ttl,
            protocol,
            c0,
            c1,
            s0,
            s1,
            s2,
            s3,
            d0,
            d1,
            d2,
            d3,
        ] = *fixed;
        if ver_ihl >> 4 != 4 {
            return Err(Ipv4HeaderError::NotVersion4);
        }
        let header_len = usize::from(ver_ihl & 0x0f) * 4;
        if header_len < IPV4_HEADER_LEN {
            return Err(Ipv4HeaderError::BadHeaderLength);
        }
        if bytes.len() < header_len {
            return Err(Ipv4HeaderError::Truncated);
        }
        Ok(Self {
            header_len,
            tos,
            total_len: u16::from_be_bytes([l0, l1]),
            id: u16::from_be_bytes([i0, i1]),
            frag_off: u16::from_be_bytes([f0, f1]),
            ttl,
            protocol,
            checksum: u16::from_be_bytes([c0, c1]),
            source: Ipv4Addr::new(s0, s1, s2, s3),
            destination: Ipv4Addr::new(d0, d1, d2, d3),
        })
    }

    /// Writes a 20-byte header (no options) with the given checksum field.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(0x45);
        out.push(self.tos);
        out.extend_from_slice(&self.total_len.to_be_bytes());
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.frag_off.to_be_bytes());
        out.push(self.ttl);
        out.push(self.protocol);
        out.extend_from_slice(&self.checksum.to_be_bytes());
        out.extend_from_slice(&self.source.octets());
        out.extend_from_slice(&self.destination.octets());
    }
}

/// The IPsec AH header keepalived puts between the IPv4 header and VRRP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AhHeader {
    pub next_header: u8,
    pub payload_len: u8,
    pub reserved: u16,
    /// keepalived: the sender's IPv4 source address, in network order.
    pub spi: u32,
    pub sequence: u32,
    pub icv: [u8; AH_ICV_LEN],
}

impl AhHeader {
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let fixed: &[u8; AH_HEADER_LEN] = bytes.get(..AH_HEADER_LEN)?.try_into().ok()?;
        let [
            next_header,
            payload_len,
            r0,
            r1,
            p0,
            p1,
            p2,
            p3,
            q0,
            q1,
            q2,
            q3,
            icv @ ..,
        ] = *fixed;
        Some(Self {
            next_header,
            payload_len,
            reserved: u16::from_be_bytes([r0, r1]),
            spi: u32::from_be_bytes([p0, p1, p2, p3]),
            sequence: u32::from_be_bytes([q0, q1, q2, q3]),
            icv,
        })
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(self.next_header);
        out.push(self.payload_len);
        out.extend_from_slice(&self.reserved.to_be_bytes());
        out.extend_from_slice(&self.spi.to_be_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.icv);
    }
}
