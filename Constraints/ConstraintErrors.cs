using Npgsql;

namespace Coderd.Database.Constraints;

/// <summary>
/// Tells which constraint a failed write hit. Each method looks at <c>e</c> and every exception
/// inside it (the <see cref="Exception.InnerException"/> chain and each of an
/// <see cref="AggregateException"/>'s inner exceptions, so wrappers such as FluentMigrator's are
/// seen through) for a <see cref="PostgresException"/>, and classifies it by SQLSTATE and
/// <see cref="PostgresException.ConstraintName"/> only, never by message text.
/// </summary>
/// <remarks>
/// The <c>Is...Violation</c> methods allocate nothing, so they suit exception filters on hot paths:
/// <c>catch (PostgresException e) when (e.IsUniqueViolation(UniqueConstraint.McpServerConfigsSlugKey))</c>.
/// A constraint is identified by its SQL name; the generator refuses a schema where two tables
/// share one.
/// </remarks>
public static class ConstraintErrors
{
    // Deep enough for any real wrapping; bounds the walk should an exception graph ever loop.
    private const int MaxDepth = 32;

    /// <summary>
    /// Whether <paramref name="e"/> holds a CHECK violation (23514) of <paramref name="constraint"/>: the
    /// answer of the <c>params</c> overload given that one member, without building a span for the
    /// most common call.
    /// </summary>
    public static bool IsCheckViolation(this Exception? e, CheckConstraint constraint) =>
        e is PostgresException postgres
            ? postgres.SqlState == PostgresErrorCodes.CheckViolation && Names(postgres, ConstraintNames.SqlNameOrNull(constraint))
            : IsCheckViolation(e, [constraint]);

    /// <summary>
    /// Whether <paramref name="e"/> holds a CHECK violation (23514) of one of <paramref name="any"/>,
    /// or of any CHECK constraint when none is given. False for null and for values that are not
    /// members of <see cref="CheckConstraint"/>.
    /// </summary>
    public static bool IsCheckViolation(this Exception? e, params ReadOnlySpan<CheckConstraint> any)
    {
        var filter = new CheckFilter(any);
        return e is PostgresException postgres ? filter.Matches(postgres) : Find(e, ref filter, 0) is not null;
    }

    /// <summary>
    /// Whether <paramref name="e"/> holds a unique violation (23505) of <paramref name="constraint"/>: the
    /// answer of the <c>params</c> overload given that one member, without building a span for the
    /// most common call.
    /// </summary>
    public static bool IsUniqueViolation(this Exception? e, UniqueConstraint constraint) =>
        e is PostgresException postgres
            ? postgres.SqlState == PostgresErrorCodes.UniqueViolation && Names(postgres, ConstraintNames.SqlNameOrNull(constraint))
            : IsUniqueViolation(e, [constraint]);

    /// <summary>
    /// Whether <paramref name="e"/> holds a unique violation (23505) of one of <paramref name="any"/>,
    /// or of any primary key, UNIQUE constraint or unique index when none is given. False for null.
    /// </summary>
    public static bool IsUniqueViolation(this Exception? e, params ReadOnlySpan<UniqueConstraint> any)
    {
        var filter = new UniqueFilter(any);
        return e is PostgresException postgres ? filter.Matches(postgres) : Find(e, ref filter, 0) is not null;
    }

    /// <summary>
    /// Whether <paramref name="e"/> holds a foreign-key violation of <paramref name="constraint"/>: the
    /// answer of the <c>params</c> overload given that one member, without building a span for the
    /// most common call.
    /// </summary>
    /// <remarks>
    /// A foreign-key violation is SQLSTATE 23503, or 23001 (restrict_violation), which PostgreSQL 18
    /// and later raise instead when an <c>ON DELETE</c> or <c>ON UPDATE RESTRICT</c> key blocks a
    /// delete or key update of the referenced row; both name the key.
    /// <see cref="ConstraintViolation.SqlState"/> tells them apart.
    /// </remarks>
    public static bool IsForeignKeyViolation(this Exception? e, ForeignKeyConstraint constraint) =>
        e is PostgresException postgres
            ? IsForeignKeyState(postgres.SqlState) && Names(postgres, ConstraintNames.SqlNameOrNull(constraint))
            : IsForeignKeyViolation(e, [constraint]);

    /// <summary>
    /// Whether <paramref name="e"/> holds a foreign-key violation (23503, or 23001 for a RESTRICT key
    /// on PostgreSQL 18 and later) of one of <paramref name="any"/>, or of any foreign key when none
    /// is given. False for null.
    /// </summary>
    public static bool IsForeignKeyViolation(this Exception? e, params ReadOnlySpan<ForeignKeyConstraint> any)
    {
        var filter = new ForeignKeyFilter(any);
        return e is PostgresException postgres ? filter.Matches(postgres) : Find(e, ref filter, 0) is not null;
    }

    /// <summary>
    /// Finds the first integrity violation (CHECK 23514, unique 23505, foreign key 23503 or 23001,
    /// NOT NULL 23502 or exclusion 23P01) in <paramref name="e"/>. A constraint this build does not
    /// know is still reported, with a null typed value; nothing is thrown for it.
    /// </summary>
    /// <param name="e">The exception caught; may be null.</param>
    /// <param name="violation">The violation found; null when the method returns false.</param>
    /// <returns>False for null, for exceptions holding no <see cref="PostgresException"/>, and for other SQLSTATEs.</returns>
    public static bool TryGetConstraintViolation(this Exception? e, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ConstraintViolation? violation)
    {
        var filter = new AnyViolationFilter();
        var error = Find(e, ref filter, 0);
        violation = error is null ? null : new ConstraintViolation(KindOf(error.SqlState), error);
        return violation is not null;
    }

    private static ConstraintKind KindOf(string sqlState) => sqlState switch
    {
        PostgresErrorCodes.CheckViolation => ConstraintKind.Check,
        PostgresErrorCodes.UniqueViolation => ConstraintKind.Unique,
        PostgresErrorCodes.ForeignKeyViolation or PostgresErrorCodes.RestrictViolation => ConstraintKind.ForeignKey,
        PostgresErrorCodes.NotNullViolation => ConstraintKind.NotNull,
        _ => ConstraintKind.Exclusion,
    };

    /// <summary>Depth-first, outermost first: the exception itself, then what it wraps.</summary>
    private static PostgresException? Find<TFilter>(Exception? e, scoped ref TFilter filter, int depth)
        where TFilter : IFilter, allows ref struct
    {
        for (; e is not null && depth < MaxDepth; e = e.InnerException, depth++)
        {
            if (e is PostgresException postgres)
            {
                if (filter.Matches(postgres)) return postgres;
            }
            else if (e is AggregateException aggregate)
            {
                // Its InnerException is only the first of these; indexing avoids an enumerator.
                var inner = aggregate.InnerExceptions;
                for (var i = 0; i < inner.Count; i++)
                {
                    if (Find(inner[i], ref filter, depth + 1) is { } found) return found;
                }

                return null;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether the error names <paramref name="sqlName"/> (ordinal). Null <paramref name="sqlName"/>
    /// (a value that is no member of its enum) matches nothing, not even an error without a name.
    /// </summary>
    private static bool Names(PostgresException e, string? sqlName) =>
        sqlName is not null && string.Equals(e.ConstraintName, sqlName);

    /// <summary>
    /// 23503, or 23001 (restrict_violation): PostgreSQL 18 and later raise the latter when an ON
    /// DELETE or ON UPDATE RESTRICT foreign key blocks a delete or key update, naming that key.
    /// </summary>
    private static bool IsForeignKeyState(string sqlState) =>
        sqlState is PostgresErrorCodes.ForeignKeyViolation or PostgresErrorCodes.RestrictViolation;

    private interface IFilter
    {
        bool Matches(PostgresException e);
    }

    private readonly ref struct CheckFilter(ReadOnlySpan<CheckConstraint> any) : IFilter
    {
        private readonly ReadOnlySpan<CheckConstraint> _any = any;

        public bool Matches(PostgresException e)
        {
            if (e.SqlState != PostgresErrorCodes.CheckViolation) return false;
            if (_any.IsEmpty) return true;
            foreach (var c in _any)
            {
                if (Names(e, ConstraintNames.SqlNameOrNull(c))) return true;
            }

            return false;
        }
    }

    private readonly ref struct UniqueFilter(ReadOnlySpan<UniqueConstraint> any) : IFilter
    {
        private readonly ReadOnlySpan<UniqueConstraint> _any = any;

        public bool Matches(PostgresException e)
        {
            if (e.SqlState != PostgresErrorCodes.UniqueViolation) return false;
            if (_any.IsEmpty) return true;
            foreach (var c in _any)
            {
                if (Names(e, ConstraintNames.SqlNameOrNull(c))) return true;
            }

            return false;
        }
    }

    private readonly ref struct ForeignKeyFilter(ReadOnlySpan<ForeignKeyConstraint> any) : IFilter
    {
        private readonly ReadOnlySpan<ForeignKeyConstraint> _any = any;

        public bool Matches(PostgresException e)
        {
            if (!IsForeignKeyState(e.SqlState)) return false;
            if (_any.IsEmpty) return true;
            foreach (var c in _any)
            {
                if (Names(e, ConstraintNames.SqlNameOrNull(c))) return true;
            }

            return false;
        }
    }

    private readonly struct AnyViolationFilter : IFilter
    {
        public bool Matches(PostgresException e) => e.SqlState is
            PostgresErrorCodes.CheckViolation or PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.ForeignKeyViolation
            or PostgresErrorCodes.RestrictViolation or PostgresErrorCodes.NotNullViolation or PostgresErrorCodes.ExclusionViolation;
    }
}
