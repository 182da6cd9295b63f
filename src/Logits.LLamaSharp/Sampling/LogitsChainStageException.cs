
namespace Logits.LLamaSharp.Sampling;

/// <summary>A Logits stage failed inside a llama.cpp sampler chain; the inner exception is the original error.</summary>
public sealed class LogitsChainStageException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public LogitsChainStageException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public LogitsChainStageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the original error.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The exception raised inside the stage.</param>
    public LogitsChainStageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
