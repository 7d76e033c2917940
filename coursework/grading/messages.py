"""Feedback texts of the checks, in the notebook's language (es or en)."""

from __future__ import annotations

LANGUAGES = ("es", "en")

TEXT = {
    "es": {
        "passed": "✓ Correcto: {summary}",
        "failed": "✗ No pasa: {summary}",
        "input": "Entrada:  {call}",
        "expected": "Esperado: {value}",
        "got": "Obtenido: {value}",
        "hidden": "Pasa los ejemplos mostrados, pero falla con entradas aleatorias ocultas: {kind}.",
        "tensor_of_shape": "tensor de forma {shape}",
    },
    "en": {
        "passed": "✓ Passed: {summary}",
        "failed": "✗ Failed: {summary}",
        "input": "Input:    {call}",
        "expected": "Expected: {value}",
        "got": "Got:      {value}",
        "hidden": "Passes the examples shown but fails on hidden random inputs: {kind}.",
        "tensor_of_shape": "tensor of shape {shape}",
    },
}

# What went wrong, by kind; {function}, {name}, {message} and {detail} are filled in.
FAILURES = {
    "es": {
        "missing": "la función `{function}` no está definida: ¿ejecutaste su celda de respuesta?",
        "not_implemented": "`{function}` todavía no está implementada (lanza NotImplementedError)",
        "raised": "`{function}` lanzó {name}: {message}",
        "not_raised": "se esperaba un ValueError ante esta entrada inválida, pero devolvió un resultado",
        "wrong_exception": "se esperaba un ValueError, pero lanzó {name}: {message}",
        "type": "el resultado no es del tipo esperado (esperado / obtenido: {detail})",
        "shape": "el resultado no tiene la forma esperada (esperada / obtenida: {detail})",
        "dtype": "el resultado no tiene el tipo de dato esperado (esperado / obtenido: {detail})",
        "length": "no devuelve el número de resultados esperado (esperado / obtenido: {detail})",
        "value": "los valores no coinciden con la referencia",
        "accuracy": "la exactitud en los textos de prueba es {detail}, por debajo del mínimo",
        "timeout": "se agotó el tiempo ({detail}): ¿hay un bucle infinito o un cálculo demasiado lento?",
        "crashed": "el proceso que ejecutaba tu código terminó de forma abrupta ({detail})",
    },
    "en": {
        "missing": "the function `{function}` is not defined: did you run its answer cell?",
        "not_implemented": "`{function}` is not implemented yet (it raises NotImplementedError)",
        "raised": "`{function}` raised {name}: {message}",
        "not_raised": "expected a ValueError for this invalid input, but it returned a value",
        "wrong_exception": "expected a ValueError, but it raised {name}: {message}",
        "type": "the result is not of the expected type (expected / got: {detail})",
        "shape": "the result does not have the expected shape (expected / got: {detail})",
        "dtype": "the result does not have the expected dtype (expected / got: {detail})",
        "length": "it does not return the expected number of results (expected / got: {detail})",
        "value": "the values do not match the reference",
        "accuracy": "the accuracy on the test texts is {detail}, below the minimum",
        "timeout": "time ran out ({detail}): is there an infinite loop or a very slow computation?",
        "crashed": "the process running your code ended abruptly ({detail})",
    },
}
