//! A loopback TCP proxy that can be started late: lets a test point a client at an address
//! where Kafka is not reachable yet, then make it reachable.

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// A free loopback port (bound and released; good enough for a test on one machine).
pub async fn free_port() -> std::io::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").await?;
    Ok(l.local_addr()?.port())
}

/// Forwards connections on `127.0.0.1:listen_port` to `target` until `stop` is cancelled.
pub async fn start(
    listen_port: u16,
    target: String,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", listen_port)).await?;
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = stop.cancelled() => return,
                a = listener.accept() => a,
            };
            let Ok((mut inbound, _)) = accepted else {
                continue;
            };
            let target = target.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(&target).await {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                    }
                }
            });
        }
    });
    Ok(())
}
