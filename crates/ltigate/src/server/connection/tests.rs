use std::net::SocketAddr;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use tokio::net::TcpListener;

use super::*;

fn bounds() -> Bounds {
    Bounds {
        header_read: Duration::from_secs(5),
        keep_alive_idle: Duration::from_secs(5),
        request: Duration::from_secs(5),
        max_connections: 4,
        shutdown_grace: Duration::from_secs(1),
    }
}

#[tokio::test]
async fn handlers_see_the_client_address_as_connect_info() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route(
        "/peer",
        get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, bounds(), async {
        let _ = stopped.await;
    }));

    let mut stream = TcpStream::connect(addr).await.unwrap();
    let client = stream.local_addr().unwrap();
    tokio::io::AsyncWriteExt::write_all(
        &mut stream,
        b"GET /peer HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut answer = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut answer)
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(&client.to_string()), "{answer}");

    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(3), server)
        .await
        .expect("stops once shutdown completes")
        .unwrap();
}
