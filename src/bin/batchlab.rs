//! `batchlab`: the page's sweep from the command line (see [`batchlab::cli`]).

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(batchlab::cli::run(std::env::args()));
}

#[cfg(target_arch = "wasm32")]
fn main() {}
