"""Text pipeline of the course's classifier: tokenize → vocabulary → multi-hot vectors."""

from .tokenizer import NUMBER_TOKEN, tokenize
from .vectorizer import LabelEncoder, TextVectorizer
from .vocabulary import UNK_TOKEN, Vocabulary

__all__ = ["NUMBER_TOKEN", "UNK_TOKEN", "LabelEncoder", "TextVectorizer", "Vocabulary", "tokenize"]
