//! The `kiln` binary: no subcommand opens the GUI; subcommands run the same engine headless.

fn main() -> std::process::ExitCode {
    kiln::memory::return_freed_memory_promptly();
    kiln::cli::main()
}
