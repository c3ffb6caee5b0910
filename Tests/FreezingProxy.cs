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
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _frozen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<TcpClient> _clients = [];
    private readonly Task _accepting;

    public FreezingProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>Stops relaying, for good.</summary>
    public void Freeze() => _frozen.TrySetResult();

    /// <summary>
    /// Closes every relayed connection and stops listening, for good: to a client, a server that
    /// went away (connections closed, new ones refused).
    /// </summary>
    public void Sever()
    {
        _listener.Stop();
        lock (_clients)
        {
            foreach (var client in _clients) client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_clients)
        {
            foreach (var client in _clients) client.Dispose();
        }

        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var server = new TcpClient();
            lock (_clients)
            {
                _clients.Add(client);
                _clients.Add(server);
            }

            _ = RelayPairAsync(client, server);
        }
    }

    private async Task RelayPairAsync(TcpClient client, TcpClient server)
    {
        try
        {
            if (_frozen.Task.IsCompleted) return;
            await server.ConnectAsync(_targetHost, _targetPort, _stop.Token);
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
            var read = from.ReadAsync(buffer, _stop.Token).AsTask();
            // Once frozen, whatever arrives is kept, never passed on.
            if (await Task.WhenAny(read, _frozen.Task) != read) await Task.Delay(Timeout.Infinite, _stop.Token);
            var count = await read;
            if (count == 0 || _frozen.Task.IsCompleted)
            {
                if (count == 0) return;
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }

            await to.WriteAsync(buffer.AsMemory(0, count), _stop.Token);
        }
    }
}
