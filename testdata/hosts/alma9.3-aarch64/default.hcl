# An empty spec: the architecture alone decides.
