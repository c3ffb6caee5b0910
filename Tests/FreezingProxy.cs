using System.Net;
using System.Net.Sockets;

namespace Coderd.Database.Tests;

/// <summary>
/// A TCP relay on a free 127.0.0.1 port in front of a server, which can be frozen: from then on it
/// relays nothing in either direction, accepts new connections and relays nothing on them either,
/// and keeps every socket open. To a client that is a server (or network) that went silent without
/// closing anything, which neither the server's timeouts nor TCP keepalives can reveal.
/// </summary>
internal sealed class FreezingProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly string targetHost;
    private readonly int targetPort;
    private readonly CancellationTokenSource stop = new();
    private readonly TaskCompletionSource frozen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<TcpClient> clients = [];
    private readonly Task accepting;

    public FreezingProxy(string targetHost, int targetPort)
    {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Stops relaying, for good.</summary>
    public void Freeze() => frozen.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        lock (clients)
        {
            foreach (var client in clients) client.Dispose();
        }

        try
        {
            await accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            var client = await listener.AcceptTcpClientAsync(stop.Token);
            var server = new TcpClient();
            lock (clients)
            {
                clients.Add(client);
                clients.Add(server);
            }

            _ = RelayPairAsync(client, server);
        }
    }

    private async Task RelayPairAsync(TcpClient client, TcpClient server)
    {
        try
        {
            if (frozen.Task.IsCompleted) return;
            await server.ConnectAsync(targetHost, targetPort, stop.Token);
            await Task.WhenAll(RelayAsync(client.GetStream(), server.GetStream()), RelayAsync(server.GetStream(), client.GetStream()));
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The test is over, or one side closed: the relay ends with it.
        }
    }

    private async Task RelayAsync(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = from.ReadAsync(buffer, stop.Token).AsTask();
            // Once frozen, whatever arrives is kept, never passed on.
            if (await Task.WhenAny(read, frozen.Task) != read) await Task.Delay(Timeout.Infinite, stop.Token);
            var count = await read;
            if (count == 0 || frozen.Task.IsCompleted)
            {
                if (count == 0) return;
                await Task.Delay(Timeout.Infinite, stop.Token);
            }

            await to.WriteAsync(buffer.AsMemory(0, count), stop.Token);
        }
    }
}
