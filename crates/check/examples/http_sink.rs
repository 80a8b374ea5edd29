//! A tiny HTTP server for the checker benchmark (scripts/bench-check.sh): every
//! connection gets `HTTP/1.0 200 OK` with a 3-byte body once its request header
//! is in, then the connection closes. Listens on 0.0.0.0:PORT, so one process
//! answers every 127.x.y.z real server.
//!
//! `cargo run --release -p check --example http_sink -- 8080`

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
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
            let _ = stream
                .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
                .await;
        });
    }
}
