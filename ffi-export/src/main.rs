//! `ffi-export`: small companion commands for projects using ffi-export.
//!
//! ```text
//! ffi-export python-helper [DIR]   write DIR/ffi_export.py (default: .)
//! ffi-export --version
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: ffi-export python-helper [DIR]   write the Python helper DIR/ffi_export.py\n       ffi-export --version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["python-helper"] => write_helper(PathBuf::from(".")),
        ["python-helper", dir] => write_helper(PathBuf::from(dir)),
        ["--version"] => {
            println!(
                "ffi-export {} (C ABI version {})",
                env!("CARGO_PKG_VERSION"),
                ffi_export::ABI_VERSION
            );
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn write_helper(dir: PathBuf) -> ExitCode {
    let path = dir.join("ffi_export.py");
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, ffi_export::PYTHON_HELPER));
    match written {
        Ok(()) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ffi-export: cannot write {}: {error}", path.display());
            ExitCode::FAILURE
        }
    }
}
