package dev.sidecar.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Every option's variable is one of {@link Env}'s names, read back from its declaration and shown in its help. */
class EnvTest {

    private static List<OptionSpec> everyOption(CommandLine cl) {
        List<OptionSpec> options = new ArrayList<>(cl.getCommandSpec().options());
        cl.getSubcommands().values().forEach(sub -> options.addAll(everyOption(sub)));
        return options;
    }

    private static Set<String> declaredNames() {
        return Arrays.stream(Env.class.getDeclaredFields())
                .filter(f -> Modifier.isStatic(f.getModifiers()) && f.getType() == String.class && f.getName().equals(f.getName().toUpperCase()))
                .map(EnvTest::value).collect(Collectors.toSet());
    }

    private static String value(Field f) {
        try {
            return (String) f.get(null);
        } catch (IllegalAccessException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void everyOptionWithAnEnvironmentDefaultUsesAnEnvNameAndShowsItInItsHelp() {
        List<OptionSpec> withVariable = everyOption(SidecarCommand.commandLine()).stream()
                .filter(o -> Env.of(o).isPresent()).toList();

        assertThat(withVariable).extracting(o -> Env.of(o).orElseThrow()).allSatisfy(name -> assertThat(declaredNames()).contains(name));
        assertThat(withVariable).allSatisfy(o -> assertThat(String.join(" ", o.description())).contains(Env.of(o).orElseThrow()));
        assertThat(withVariable.stream().map(o -> Env.of(o).orElseThrow()).collect(Collectors.toSet()))
                .as("every Env name is used by some option").isEqualTo(declaredNames());
    }

    @Test
    void onlyHelpVersionAndShowsOutputHaveNoVariable() {
        assertThat(everyOption(SidecarCommand.commandLine()).stream().filter(o -> Env.of(o).isEmpty())
                .map(OptionSpec::longestName).collect(Collectors.toSet()))
                .containsExactlyInAnyOrder("--help", "--version", "--output");
    }
}
