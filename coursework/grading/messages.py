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
        "held_out": "Falla con los datos de la calificación, que no ves: {kind}.",
        "tensor_of_shape": "tensor de forma {shape}",
        "diagnosis": "Diagnóstico: {text}",
        "review": "Repasa en el libro: {url}",
    },
    "en": {
        "passed": "✓ Passed: {summary}",
        "failed": "✗ Failed: {summary}",
        "input": "Input:    {call}",
        "expected": "Expected: {value}",
        "got": "Got:      {value}",
        "hidden": "Passes the examples shown but fails on hidden random inputs: {kind}.",
        "held_out": "Fails on the grading data, which you do not see: {kind}.",
        "tensor_of_shape": "tensor of shape {shape}",
        "diagnosis": "Diagnosis: {text}",
        "review": "Review in the book: {url}",
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
        "structure": "el modelo que devolviste no es el que pide el ejercicio ({detail})",
        "not_allowed": "ruta no permitida: {message}",
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
        "structure": "the model you returned is not the one the exercise asks for ({detail})",
        "not_allowed": "route not allowed: {message}",
        "timeout": "time ran out ({detail}): is there an infinite loop or a very slow computation?",
        "crashed": "the process running your code ended abruptly ({detail})",
    },
}

# What the notebook's own checks print besides verdicts (the student's view of progress).
STATUS = {
    "es": {
        "not_attempted_check": "· `{function}` todavía no está escrita: esta parte queda sin intentar",
        "not_written_yet": ("· Tu función todavía lanza NotImplementedError: escríbela en su celda de "
                            "respuesta"),
        "try_failed": "✗ Tu código lanzó {name}: {message}",
        "summary_title": "Resumen de tus funciones (según las comprobaciones de este cuaderno):",
        "summary_line": "  {function:<28} {status:<14} {points:g} de {total:g} puntos",
        "done": "✓ lista",
        "failing": "✗ falla",
        "not_attempted": "· sin intentar",
        "summary_note": ("Los puntos de verdad los da la calificación, que vuelve a ejecutar tus celdas de "
                         "respuesta por separado y con entradas que no ves; la pregunta escrita la califica "
                         "tu docente."),
    },
    "en": {
        "not_attempted_check": "· `{function}` is not written yet: this part is not attempted",
        "not_written_yet": "· Your function still raises NotImplementedError: write it in its answer cell",
        "try_failed": "✗ Your code raised {name}: {message}",
        "summary_title": "Summary of your functions (by this notebook's checks):",
        "summary_line": "  {function:<28} {status:<14} {points:g} of {total:g} points",
        "done": "✓ done",
        "failing": "✗ failing",
        "not_attempted": "· not attempted",
        "summary_note": ("The points that count come from grading, which runs your answer cells again on "
                         "their own and with inputs you do not see; your instructor grades the written "
                         "question."),
    },
}
