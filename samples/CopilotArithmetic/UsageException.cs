using System;

namespace Logits.Samples.CopilotArithmetic;

/// <summary>The command line is wrong: the program prints the message and its usage and exits with code 2.</summary>
public sealed class UsageException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public UsageException(string message)
        : base(message, "args")
    {
    }

    /// <summary>Creates the exception with the parse error that caused it.</summary>
    public UsageException(string message, Exception innerException)
        : base(message, "args", innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public UsageException()
        : base("The command line is wrong.", "args")
    {
    }
}
