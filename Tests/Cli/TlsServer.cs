using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Tests.Cli;

/// <summary>
/// A throwaway server of its own that speaks TLS with a certificate for 127.0.0.1 only, signed by a
/// test certificate authority; and the file of that authority and of another one. The run's shared
/// server stays plaintext (other tests rely on it).
/// </summary>
public sealed class TlsServer : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("coderd-db-tls-").FullName;
    private ThrowawayCluster? _cluster;

    /// <summary>Superuser connection string (no TLS settings); contains the password.</summary>
    public string AdminConnectionString => _cluster?.Cluster.ConnectionString ?? throw new InvalidOperationException("Used before xunit initialized it.");

    /// <summary>The server's major version (<c>TEST_POSTGRES_MAJOR</c>, else the newest installed).</summary>
    public int MajorVersion => _cluster?.Cluster.MajorVersion ?? throw new InvalidOperationException("Used before xunit initialized it.");

    /// <summary>The certificate authority that signed the server's certificate (PEM).</summary>
    public string RootCertificate => Path.Combine(_folder, "root.pem");

    /// <summary>Another certificate authority, which signed nothing the server has (PEM).</summary>
    public string OtherRootCertificate => Path.Combine(_folder, "other-root.pem");

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        using var root = NewAuthority("coderd-db test root");
        using var other = NewAuthority("coderd-db other root");
        await File.WriteAllTextAsync(RootCertificate, root.ExportCertificatePem(), cancellationToken);
        await File.WriteAllTextAsync(OtherRootCertificate, other.ExportCertificatePem(), cancellationToken);

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        using var server = request.Create(root, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));

        _cluster = await ThrowawayCluster.StartAsync(cancellationToken);
        // The server writes the files itself (COPY ... TO PROGRAM), so they belong to the user it runs
        // as, with the private mode PostgreSQL demands of a key, whoever this process is.
        await WriteServerFileAsync("server.crt", server.ExportCertificatePem(), cancellationToken);
        await WriteServerFileAsync("server.key", key.ExportPkcs8PrivateKeyPem(), cancellationToken);
        await Sql.ExecuteAsync(AdminConnectionString, $"ALTER SYSTEM SET ssl_cert_file = '{ServerFile("server.crt")}'", cancellationToken);
        await Sql.ExecuteAsync(AdminConnectionString, $"ALTER SYSTEM SET ssl_key_file = '{ServerFile("server.key")}'", cancellationToken);
        await Sql.ExecuteAsync(AdminConnectionString, "ALTER SYSTEM SET ssl = on", cancellationToken);
        await Sql.ExecuteAsync(AdminConnectionString, "SELECT pg_reload_conf()", cancellationToken);
        // The postmaster rereads its configuration a moment after the signal.
        var probe = new NpgsqlConnectionStringBuilder(AdminConnectionString) { SslMode = SslMode.VerifyFull, RootCertificate = RootCertificate, Pooling = false };
        for (var attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                if (await Sql.ScalarAsync<bool>(probe.ConnectionString, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", cancellationToken)) return;
            }
            catch (NpgsqlException)
            {
                await Task.Delay(100, cancellationToken);
            }
        }

        var log = await File.ReadAllLinesAsync(Path.Combine(_cluster.Cluster.DataDirectory, "server.log"), cancellationToken);
        throw new InvalidOperationException($"The throwaway server did not turn TLS on; its log ends: {string.Join(" | ", log.TakeLast(5))}");
    }

    /// <summary>A new empty database; its connection string, without TLS settings.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "tls_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        await Sql.ExecuteAsync(AdminConnectionString, $"CREATE DATABASE {name}", TestContext.Current.CancellationToken);
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private string ServerFile(string name) => Path.Combine(_cluster!.Cluster.DataDirectory, name);

    private static X509Certificate2 NewAuthority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
    }

    private Task WriteServerFileAsync(string name, string pem, CancellationToken cancellationToken)
    {
        // One row per line: base64 and the PEM armour hold nothing COPY's text format escapes.
        var lines = string.Join(", ", pem.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n').Select(line => $"('{line}')"));
        return Sql.ExecuteAsync(AdminConnectionString, $"COPY (SELECT line FROM (VALUES {lines}) AS pem (line)) TO PROGRAM 'umask 077 && cat > \"{ServerFile(name)}\"'", cancellationToken);
    }
}
