package dev.flocker.lab;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 fixture for the local lab, in the style of Testcontainers: annotate a test class with
 * {@link WithLab}, take a {@link Lab} as a test or lifecycle parameter, and the lab is brought up once
 * before the class's tests and removed after them. A lab left by a crashed run of the same class is
 * removed first, so a new run starts clean.
 */
public final class LabExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    /** Declares the lab a test class needs. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.TYPE)
    @org.junit.jupiter.api.extension.ExtendWith(LabExtension.class)
    public @interface WithLab {
        /** Lab name; 1-8 lower-case letters or digits; unique per test class so classes never share resources. */
        String name();

        int nodes() default 2;

        String[] images() default {"busybox"};
    }

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LabExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        var spec = spec(context);
        long start = System.nanoTime();
        Lab.down(spec.name());
        var lab = Lab.up(spec.name(), spec.nodes(), spec.images());
        context.getStore(NS).put("lab", lab);
        System.err.printf("lab %s up in %d ms%n", spec.name(), (System.nanoTime() - start) / 1_000_000);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        var lab = context.getStore(NS).remove("lab", Lab.class);
        long start = System.nanoTime();
        Lab.down(lab != null ? lab.name() : spec(context).name());
        System.err.printf("lab %s down in %d ms%n", spec(context).name(), (System.nanoTime() - start) / 1_000_000);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == Lab.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        var lab = context.getStore(NS).get("lab", Lab.class);
        if (lab == null) {
            throw new LabException("no lab is up for " + context.getDisplayName());
        }
        return lab;
    }

    private static WithLab spec(ExtensionContext context) {
        var type = context.getRequiredTestClass();
        var spec = type.getAnnotation(WithLab.class);
        if (spec == null) {
            throw new LabException(type.getName() + " uses LabExtension without @WithLab(name = ...)");
        }
        return spec;
    }
}
