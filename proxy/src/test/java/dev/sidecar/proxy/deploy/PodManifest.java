package dev.sidecar.proxy.deploy;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A Kubernetes Pod manifest from {@code deploy/kubernetes}, parsed with SnakeYAML's safe loader,
 * with just enough navigation for the tests to read like the README's promises.
 */
final class PodManifest {
    private final Path file;
    private final Map<String, Object> root;

    private PodManifest(Path file, Map<String, Object> root) {
        this.file = file;
        this.root = root;
    }

    /** Loads {@code deploy/kubernetes/<name>} of this checkout (tests run in the proxy module). */
    static PodManifest load(String name) throws IOException {
        Path file = repoRoot().resolve("deploy/kubernetes").resolve(name);
        try (Reader in = Files.newBufferedReader(file)) {
            Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
            if (!(doc instanceof Map)) {
                throw new IllegalStateException(file + ": not a YAML mapping");
            }
            return new PodManifest(file, cast(doc));
        }
    }

    static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("deploy/kubernetes"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no deploy/kubernetes above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    Object get(String dottedPath) {
        return at(root, dottedPath);
    }

    /** Containers of {@code spec.<list>} ("initContainers" or "containers"), in order. */
    List<Container> containers(String list) {
        List<Container> out = new ArrayList<>();
        Object items = at(root, "spec." + list);
        if (items instanceof List<?> l) {
            for (Object item : l) {
                out.add(new Container(cast(item)));
            }
        }
        return out;
    }

    /** The named container, wherever it is declared. */
    Container container(String name) {
        List<Container> all = new ArrayList<>(containers("initContainers"));
        all.addAll(containers("containers"));
        return all.stream().filter(c -> name.equals(c.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError(file + ": no container named " + name));
    }

    /** Names of the volumes of {@code spec.volumes} that are emptyDirs. */
    List<String> emptyDirVolumes() {
        List<String> out = new ArrayList<>();
        if (at(root, "spec.volumes") instanceof List<?> l) {
            for (Object v : l) {
                Map<String, Object> m = cast(v);
                if (m.containsKey("emptyDir")) {
                    out.add((String) m.get("name"));
                }
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return file.getFileName().toString();
    }

    /** One container of the Pod. */
    record Container(Map<String, Object> map) {
        Object get(String dottedPath) {
            return at(map, dottedPath);
        }

        String name() {
            return (String) map.get("name");
        }

        /** command followed by args, as the container runtime would run them. */
        List<String> commandLine() {
            List<String> out = new ArrayList<>(strings("command"));
            out.addAll(strings("args"));
            return out;
        }

        List<String> strings(String dottedPath) {
            Object v = get(dottedPath);
            if (v == null) {
                return List.of();
            }
            List<String> out = new ArrayList<>();
            for (Object o : (List<?>) v) {
                out.add(String.valueOf(o));
            }
            return out;
        }

        List<Integer> containerPorts() {
            List<Integer> out = new ArrayList<>();
            if (get("ports") instanceof List<?> l) {
                for (Object p : l) {
                    out.add((Integer) cast(p).get("containerPort"));
                }
            }
            return out;
        }

        Optional<String> mountOf(String mountPath) {
            if (get("volumeMounts") instanceof List<?> l) {
                for (Object m : l) {
                    Map<String, Object> mount = cast(m);
                    if (mountPath.equals(mount.get("mountPath"))) {
                        return Optional.of((String) mount.get("name"));
                    }
                }
            }
            return Optional.empty();
        }

        Optional<String> env(String name) {
            if (get("env") instanceof List<?> l) {
                for (Object e : l) {
                    Map<String, Object> var = cast(e);
                    if (name.equals(var.get("name"))) {
                        return Optional.of(String.valueOf(var.get("value")));
                    }
                }
            }
            return Optional.empty();
        }
    }

    private static Object at(Map<String, Object> map, String dottedPath) {
        Object cur = map;
        for (String key : dottedPath.split("\\.")) {
            if (!(cur instanceof Map<?, ?> m)) {
                return null;
            }
            cur = m.get(key);
        }
        return cur;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object o) {
        return (Map<String, Object>) o;
    }
}
