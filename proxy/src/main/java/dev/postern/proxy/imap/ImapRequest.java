package dev.postern.proxy.imap;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/** What the {@link ImapDecoder} makes of the client's bytes before authentication. */
public sealed interface ImapRequest
        permits ImapRequest.Command, ImapRequest.LiteralWanted, ImapRequest.Malformed, ImapRequest.SaslResponse {

    /**
     * A complete command, literals included.
     *
     * @param tag the client's tag
     * @param name the command name, upper case
     * @param args the arguments in order
     */
    record Command(String tag, String name, List<ImapArg> args) implements ImapRequest {
        public Command {
            Objects.requireNonNull(tag, "tag");
            name = name.toUpperCase(Locale.ROOT);
            args = List.copyOf(args);
        }

        /** Never shows the arguments: they may hold a password. */
        @Override
        public String toString() {
            return "Command[" + tag + " " + name + ", " + args.size() + " args]";
        }
    }

    /**
     * The command being read announced a synchronizing literal ({@code {n}}) within the bounds: the client waits for
     * a continuation request ({@code + ...}) before it sends the literal's bytes. The session answers it either with
     * the continuation or with a tagged reply that ends the command ({@link ImapDecoder#abandonCommand()}): RFC 9051
     * section 7.5 lets a server refuse a command before its literal, so a literal that is sure to be refused (a user
     * name where credentials may not be sent) never crosses.
     *
     * @param tag the command's tag
     * @param name the command's name, upper case
     */
    record LiteralWanted(String tag, String name) implements ImapRequest {
        public LiteralWanted {
            Objects.requireNonNull(tag, "tag");
            name = name.toUpperCase(Locale.ROOT);
        }
    }

    /**
     * A command that cannot be executed. Anything it announced as non-synchronizing literals was skipped.
     *
     * @param tag the command's tag, or null when the line has no valid tag (the reply is untagged then)
     * @param reason the text for the {@code BAD} (or {@code BYE}) reply; never contains what the client sent
     * @param fatal the connection must be closed: the client is sending bytes that cannot be accepted (a
     *     non-synchronizing literal over the size bound)
     */
    record Malformed(String tag, String reason, boolean fatal) implements ImapRequest {}

    /**
     * One line of a SASL exchange (AUTHENTICATE continuation): base64, or {@code *} to cancel. Only decoded after
     * {@link ImapDecoder#expectSaslResponse()}.
     *
     * @param line the line without its line ending
     */
    record SaslResponse(String line) implements ImapRequest {
        /** Never shows the line: it holds credentials. */
        @Override
        public String toString() {
            return "SaslResponse[" + line.length() + " chars]";
        }
    }
}
