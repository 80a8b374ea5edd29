//! Fuzzes what a (hostile) real server can send a checker: the first byte picks
//! the parser and how the rest is cut into reads, the rest is the server's bytes.
//!
//! * HTTP_GET / SSL_GET: `http::ResponseReader` fed in chunks, then `finish`;
//!   also `status_code` / `content_length` on the raw bytes.
//! * SMTP_CHECK: `SmtpLineBuffer` fed in chunks no larger than its room, then
//!   `smtp_status` on every line.
//! * DNS_CHECK: `dns_reply_verdict`.
//!
//! Nothing may panic; the bounded buffers must stay bounded.

#![no_main]

use check::checks::{SMTP_LINE_MAX, SmtpLineBuffer, dns_reply_verdict, smtp_status};
use check::http::{ResponseReader, content_length, status_code};
use libfuzzer_sys::fuzz_target;

fn chunks(data: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    data.chunks(size.max(1))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(selector >> 2) + 1;
    match selector & 3 {
        0 | 1 => {
            let _ = status_code(bytes);
            let _ = content_length(bytes);
            let mut reader = ResponseReader::new(selector & 1 == 1);
            for piece in chunks(bytes, chunk) {
                if reader.feed(piece).is_err() {
                    return;
                }
            }
            if let Ok(response) = reader.finish() {
                assert!(response.body_len <= bytes.len() as u64);
                assert!(response.body.len() <= check::http::REGEX_BODY_CAP);
            }
        }
        2 => {
            let mut line = SmtpLineBuffer::default();
            let mut rest = bytes;
            while !rest.is_empty() {
                let take = line.room().min(chunk).min(rest.len());
                let (piece, after) = rest.split_at(take);
                rest = after;
                if let Some(text) = line.push(piece) {
                    assert!(text.len() < SMTP_LINE_MAX * 3); // lossy UTF-8 may triple
                    let _ = smtp_status(&text);
                }
            }
        }
        _ => {
            let id = u16::from_be_bytes([
                bytes.first().copied().unwrap_or(0),
                bytes.get(1).copied().unwrap_or(0),
            ]);
            let _ = dns_reply_verdict(id, bytes);
        }
    }
});
