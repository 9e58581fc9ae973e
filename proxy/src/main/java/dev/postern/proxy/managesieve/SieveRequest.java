package dev.postern.proxy.managesieve;

import java.util.List;
import java.util.Locale;

/** What the {@link ManageSieveDecoder} makes of a client's bytes before authentication. */
public sealed interface SieveRequest permits SieveRequest.Command, SieveRequest.SaslResponse, SieveRequest.Malformed {

    /**
     * A complete command, literals included.
     *
     * @param name the command name, upper case (any atom: unknown ones are refused by the session, not here)
     * @param args the arguments in order
     */
    record Command(String name, List<Arg> args) implements SieveRequest {
        public Command {
            name = name.toUpperCase(Locale.ROOT);
            args = List.copyOf(args);
        }

        /** Never shows the arguments: they may hold credentials. */
        @Override
        public String toString() {
            return "Command[" + name + ", " + args.size() + " args]";
        }
    }

    /**
     * The client's answer to a SASL challenge: one string, quoted or literal; {@code *} cancels the exchange.
     *
     * @param value the string's content
     */
    record SaslResponse(String value) implements SieveRequest {
        /** Never shows the value: it holds credentials. */
        @Override
        public String toString() {
            return "SaslResponse[" + value.length() + " chars]";
        }
    }

    /**
     * A command that cannot be executed.
     *
     * @param reason the text of the {@code NO} (or {@code BYE}) reply; never contains what the client sent
     * @param fatal the connection must be closed: the client is sending a literal over the bound, whose bytes are on
     *     their way (ManageSieve has no continuation request to refuse it before)
     */
    record Malformed(String reason, boolean fatal) implements SieveRequest {}

    /**
     * One argument of a command.
     *
     * @param string true for a string (quoted or literal), false for an atom or number
     * @param value the content, without quotes or escapes
     */
    record Arg(boolean string, String value) {
        /** Never shows the value: it may be a password. */
        @Override
        public String toString() {
            return string ? "Arg[string]" : "Arg[atom]";
        }
    }
}
