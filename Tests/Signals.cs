using System.Runtime.InteropServices;

namespace Coderd.Database.Tests;

/// <summary>POSIX signals for other processes: .NET itself only sends SIGKILL (<see cref="System.Diagnostics.Process.Kill()"/>).</summary>
internal static class Signals
{
    public const int Interrupt = 2;
    public const int Kill = 9;
    public const int Terminate = 15;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when that failed (<see cref="Marshal.GetLastPInvokeError"/> says why).</summary>
    public static bool Send(int pid, int signal) => SendSignal(pid, signal) == 0;

    // DllImport rather than LibraryImport: the generated form needs unsafe code enabled project-wide.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
