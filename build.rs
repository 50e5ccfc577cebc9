//! Compiles `proto/shoe.proto` into Rust types at build time with `protox` (a pure-Rust protobuf compiler),
//! so building needs no `protoc` binary. The encoded file descriptor set is kept too: the wire format
//! derives Confluent's message indexes from it instead of hard-coding them.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/shoe.proto");
    let descriptors = protox::compile(["proto/shoe.proto"], ["proto"])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("shoe_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
