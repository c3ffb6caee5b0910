using System.Data;
using FluentMigrator;

namespace Coderd.Database.Migrations.Versions;

/// <summary>
/// Coder as an OAuth2 provider: registered apps, their client secrets, authorization codes and the
/// tokens issued (each backed by an API key).
/// </summary>
[Migration(2026_01_12_0010, "Create OAuth2 provider apps, secrets, codes and tokens")]
internal sealed class M2026_01_12_0010_CreateOAuth2Provider : SchemaMigration
{
    /// <inheritdoc/>
    public override void Up()
    {
        Create.Table("oauth2_provider_apps")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("oauth2_provider_apps_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("updated_at").AsDateTimeOffset().NotNullable()
            .WithColumn("name").AsString(64).NotNullable()
            .WithColumn("icon").AsString(256).NotNullable()
            .WithColumn("callback_url").AsString().NotNullable()
            .WithColumn("redirect_uris").AsCustom("text[]").Nullable()
            .WithColumn("client_type").AsString().Nullable().WithDefaultValue("confidential")
            .WithColumn("dynamically_registered").AsBoolean().Nullable().WithDefaultValue(false)
            .WithColumn("client_id_issued_at").AsDateTimeOffset().Nullable().WithDefaultValue(Now)
            .WithColumn("client_secret_expires_at").AsDateTimeOffset().Nullable()
            .WithColumn("grant_types").AsCustom("text[]").Nullable().WithDefaultValue("{authorization_code,refresh_token}")
            .WithColumn("response_types").AsCustom("text[]").Nullable().WithDefaultValue("{code}")
            .WithColumn("token_endpoint_auth_method").AsString().Nullable().WithDefaultValue("client_secret_basic")
            .WithColumn("scope").AsString().Nullable().WithDefaultValue("")
            .WithColumn("contacts").AsCustom("text[]").Nullable()
            .WithColumn("client_uri").AsString().Nullable()
            .WithColumn("logo_uri").AsString().Nullable()
            .WithColumn("tos_uri").AsString().Nullable()
            .WithColumn("policy_uri").AsString().Nullable()
            .WithColumn("jwks_uri").AsString().Nullable()
            .WithColumn("jwks").AsCustom("jsonb").Nullable()
            .WithColumn("software_id").AsString().Nullable()
            .WithColumn("software_version").AsString().Nullable()
            .WithColumn("registration_access_token").AsBinary().Nullable()
            .WithColumn("registration_client_uri").AsString().Nullable();
        Describe("oauth2_provider_apps", "An OAuth2 client application registered with coderd acting as authorization server.",
            ("callback_url", "Redirect URL of apps registered before redirect_uris existed."),
            ("dynamically_registered", "True if the app registered itself (RFC 7591)."),
            ("registration_access_token", "Hash of the token the app uses to manage its registration; NULL if none."));

        Create.Table("oauth2_provider_app_secrets")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("oauth2_provider_app_secrets_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("last_used_at").AsDateTimeOffset().Nullable()
            .WithColumn("hashed_secret").AsBinary().NotNullable()
            .WithColumn("display_secret").AsString().NotNullable()
            .WithColumn("app_id").AsGuid().NotNullable()
                .ForeignKey("oauth2_provider_app_secrets_app_id_fkey", "oauth2_provider_apps", "id").OnDelete(Rule.Cascade)
            .WithColumn("secret_prefix").AsBinary().NotNullable();
        Describe("oauth2_provider_app_secrets", "A client secret of an OAuth2 provider app.",
            ("hashed_secret", "Hash of the secret; the secret itself is never stored."),
            ("display_secret", "Shortened form of the secret, to tell secrets apart in the UI."),
            ("secret_prefix", "Lookup prefix of the secret."));
        Create.UniqueConstraint("oauth2_provider_app_secrets_secret_prefix_key")
            .OnTable("oauth2_provider_app_secrets").Column("secret_prefix");

        Create.Table("oauth2_provider_app_codes")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("oauth2_provider_app_codes_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("expires_at").AsDateTimeOffset().NotNullable()
            .WithColumn("secret_prefix").AsBinary().NotNullable()
            .WithColumn("hashed_secret").AsBinary().NotNullable()
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("oauth2_provider_app_codes_user_id_fkey", "users", "id").OnDelete(Rule.Cascade)
            .WithColumn("app_id").AsGuid().NotNullable()
                .ForeignKey("oauth2_provider_app_codes_app_id_fkey", "oauth2_provider_apps", "id").OnDelete(Rule.Cascade)
            .WithColumn("resource_uri").AsString().Nullable()
            .WithColumn("code_challenge").AsString().Nullable()
            .WithColumn("code_challenge_method").AsString().Nullable()
            .WithColumn("state_hash").AsString().Nullable()
            .WithColumn("redirect_uri").AsString().Nullable();
        Describe("oauth2_provider_app_codes", "An authorization code issued to an OAuth2 provider app, valid once and briefly.",
            ("secret_prefix", "Lookup prefix of the code."),
            ("hashed_secret", "Hash of the code; the code itself is never stored."),
            ("resource_uri", "Resource the token is for (RFC 8707); NULL if not given."),
            ("code_challenge", "PKCE challenge; NULL if the client used none."),
            ("code_challenge_method", "PKCE method, for example S256; NULL with no challenge."),
            ("state_hash", "Hash of the client's state value; NULL if none was sent."),
            ("redirect_uri", "Redirect URI the code was requested with; NULL if not given."));
        Create.UniqueConstraint("oauth2_provider_app_codes_secret_prefix_key")
            .OnTable("oauth2_provider_app_codes").Column("secret_prefix");

        Create.Table("oauth2_provider_app_tokens")
            .WithColumn("id").AsGuid().NotNullable().PrimaryKey("oauth2_provider_app_tokens_pkey")
            .WithColumn("created_at").AsDateTimeOffset().NotNullable()
            .WithColumn("expires_at").AsDateTimeOffset().NotNullable()
            .WithColumn("hash_prefix").AsBinary().NotNullable()
            .WithColumn("refresh_hash").AsBinary().NotNullable()
            .WithColumn("app_secret_id").AsGuid().NotNullable()
                .ForeignKey("oauth2_provider_app_tokens_app_secret_id_fkey", "oauth2_provider_app_secrets", "id").OnDelete(Rule.Cascade)
            .WithColumn("api_key_id").AsString().NotNullable()
                .ForeignKey("oauth2_provider_app_tokens_api_key_id_fkey", "api_keys", "id").OnDelete(Rule.Cascade)
            .WithColumn("audience").AsString().Nullable()
            .WithColumn("user_id").AsGuid().NotNullable()
                .ForeignKey("fk_oauth2_provider_app_tokens_user_id", "users", "id").OnDelete(Rule.Cascade);
        Describe("oauth2_provider_app_tokens", "An access token issued to an OAuth2 provider app, backed by an API key.",
            ("hash_prefix", "Prefix used to look the token up."),
            ("refresh_hash", "Hash of the refresh token."),
            ("audience", "Resource the token is valid for; NULL if unrestricted."));
        Create.UniqueConstraint("oauth2_provider_app_tokens_hash_prefix_key")
            .OnTable("oauth2_provider_app_tokens").Column("hash_prefix");
    }

    /// <inheritdoc/>
    public override void Down()
    {
        Delete.Table("oauth2_provider_app_tokens");
        Delete.Table("oauth2_provider_app_codes");
        Delete.Table("oauth2_provider_app_secrets");
        Delete.Table("oauth2_provider_apps");
    }
}
