using System.Runtime.InteropServices;

namespace Coderd.Database.Cli;

/// <summary>
/// Turns the first SIGINT or SIGTERM into a cancellation: the running statement is cancelled on
/// the server, its transaction rolled back and the lock released before the process exits with
/// 128 + the signal number. A second signal ends the process at once (the server then notices the
/// closed connection and rolls back by itself).
/// </summary>
internal sealed class Interrupt : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private int _signal;

    public Interrupt()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    public CancellationToken Token => _source.Token;

    /// <summary>The signal received, or null.</summary>
    public PosixSignal? Signal => _signal switch
    {
        0 => null,
        2 => PosixSignal.SIGINT,
        _ => PosixSignal.SIGTERM,
    };

    /// <summary>128 + the signal number (130 for SIGINT, 143 for SIGTERM).</summary>
    public int ExitCode => Exit.Interrupted + _signal;

    private void Handle(PosixSignalContext context)
    {
        var number = context.Signal == PosixSignal.SIGINT ? 2 : 15;
        if (Interlocked.CompareExchange(ref _signal, number, 0) != 0)
        {
            // Second signal: let the default action end the process.
            return;
        }

        context.Cancel = true;
        // Npgsql's cancellation sends a cancel request over the network: not on the signal thread.
        _ = Task.Run(_source.Cancel);
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _source.Dispose();
    }
}
