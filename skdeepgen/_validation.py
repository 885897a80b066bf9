"""Small validators shared by the primitives."""


def check_option(value, options, param_name):
    """Return ``value`` if it is one of the strings ``options``, else raise.

    The message names the parameter, the value and the valid options.
    """
    if not isinstance(value, str):
        raise TypeError(
            f"{param_name} must be a string, one of {options}; got {value!r} of type {type(value).__name__}."
        )
    if value not in options:
        raise ValueError(f"{param_name} must be one of {options}; got {value!r}.")
    return value
