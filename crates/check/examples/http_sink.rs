//! A tiny HTTP server for the checker benchmark (scripts/bench-check.sh): every
//! connection gets `HTTP/1.0 200 OK` with a 3-byte body once its request header
//! is in, then the connection closes. Listens on 0.0.0.0:PORT, so one process
//! answers every 127.x.y.z real server.
//!
//! With a COUNTS path it also counts what the checkers did, for the benchmark's
//! CPU per check: every 200 ms it writes "CONNECTIONS REQUESTS" (accepted
//! connections — one per TCP_CHECK or HTTP_GET — and complete HTTP requests since
//! it started) to COUNTS, replaced atomically.
//!
//! `cargo run --release -p check --example http_sink -- 8080 [COUNTS]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Default)]
struct Counts {
    connections: AtomicU64,
    requests: AtomicU64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8080);
    let counts_path = args.next().map(std::path::PathBuf::from);
    let counts = Arc::new(Counts::default());
    if let Some(path) = counts_path {
        let counts = Arc::clone(&counts);
        tokio::spawn(async move {
            let staging = path.with_extension("new");
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
            loop {
                tick.tick().await;
                let line = format!(
                    "{} {}\n",
                    counts.connections.load(Ordering::Relaxed),
                    counts.requests.load(Ordering::Relaxed)
                );
                if std::fs::write(&staging, line).is_ok() {
                    let _ = std::fs::rename(&staging, &path);
                }
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        counts.connections.fetch_add(1, Ordering::Relaxed);
        let counts = Arc::clone(&counts);
        tokio::spawn(async move {
            let mut buffer = [0u8; 2048];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer).await {
                    // TCP_CHECK closes without sending anything.
                    Ok(0) | Err(_) => return,
                    Ok(n) => seen.extend_from_slice(buffer.get(..n).unwrap_or_default()),
                }
            }
            counts.requests.fetch_add(1, Ordering::Relaxed);
            let _ = stream
                .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
                .await;
        });
    }
}
