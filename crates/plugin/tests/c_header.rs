//! The C header in `include/` is cbindgen's rendering of `src/abi.rs`, never edited by hand:
//! this test fails when they differ (set `MODELPORT_UPDATE_HEADER=1` to rewrite it).
use std::path::PathBuf;

#[test]
fn the_committed_c_header_is_generated_from_the_abi() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let header = crate_dir.join("../../include/modelport_plugin.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("config");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/abi.rs"))
        .generate()
        .expect("cbindgen renders the ABI")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("UTF-8");
    if std::env::var_os("MODELPORT_UPDATE_HEADER").is_some() {
        std::fs::write(&header, &generated).expect("write the header");
    }
    let committed = std::fs::read_to_string(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "include/modelport_plugin.h is not cbindgen's rendering of src/abi.rs; regenerate it with \
         MODELPORT_UPDATE_HEADER=1 cargo test -p modelport-plugin --test c_header"
    );
}
