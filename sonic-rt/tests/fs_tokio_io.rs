//! With the `tokio` feature: tokio's io traits on `fs::File`, child pipes and stdio, so code
//! written against `tokio::io::{AsyncReadExt, AsyncWriteExt, AsyncSeekExt}` runs unchanged.
#![cfg(feature = "tokio")]

use sonic_rt::Builder;
use std::io::SeekFrom;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

fn check_file(uring: bool) {
    let rt = Builder::new().io_uring(uring).build().unwrap();
    let path = std::env::temp_dir().join(format!("sonic-tokio-io-{}-{uring}", std::process::id()));
    rt.block_on(async {
        let mut f = sonic_rt::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .await
            .unwrap();
        f.write_all(b"hello tokio traits").await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(f.seek(SeekFrom::Start(6)).await.unwrap(), 6);
        let mut s = String::new();
        f.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "tokio traits");
        assert_eq!(f.stream_position().await.unwrap(), 18);

        let mut child = sonic_rt::process::Command::new("cat")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"through cat").await.unwrap();
        drop(stdin);
        let mut out = Vec::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_end(&mut out)
            .await
            .unwrap();
        assert_eq!(out, b"through cat");
        assert!(child.wait().await.unwrap().success());
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn tokio_traits_on_files_and_pipes_io_uring() {
    check_file(true);
}

#[test]
fn tokio_traits_on_files_and_pipes_pool() {
    check_file(false);
}
