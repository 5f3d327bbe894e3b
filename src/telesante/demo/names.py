"""Name lists for the demo region.

First names are ordinary French first names. Surnames are invented by joining syllables
(``surnames()``), so that no seeded professional or patient is a real person.
"""

# Residents of EHPAD, born between the 1920s and the 1950s.
OLD_FEMALE_FIRST_NAMES = [
    "Andrée", "Anne-Marie", "Annick", "Bernadette", "Berthe", "Claudette", "Colette",
    "Denise", "Éliane", "Fernande", "Georgette", "Germaine", "Ginette", "Gisèle",
    "Henriette", "Huguette", "Jacqueline", "Jeanne", "Josette", "Léone", "Louise",
    "Lucette", "Lucienne", "Madeleine", "Marcelle", "Marguerite", "Marie", "Marie-Thérèse",
    "Mauricette", "Micheline", "Monique", "Odette", "Odile", "Paulette", "Raymonde",
    "Renée", "Simone", "Solange", "Suzanne", "Thérèse", "Yvette", "Yvonne",
]  # fmt: skip
OLD_MALE_FIRST_NAMES = [
    "Albert", "André", "Armand", "Bernard", "Claude", "Émile", "Eugène", "Fernand",
    "Francis", "Gaston", "Georges", "Gérard", "Gilbert", "Henri", "Jacques", "Jean",
    "Jean-Claude", "Jean-Pierre", "Joseph", "Louis", "Lucien", "Marcel", "Maurice",
    "Michel", "Pierre", "Raymond", "René", "Robert", "Roger", "Roland", "Yves",
]  # fmt: skip

# Professionals and adult patients of the MSP, born between the 1950s and the 2000s.
FEMALE_FIRST_NAMES = [
    "Agathe", "Amandine", "Anne", "Aurélie", "Camille", "Caroline", "Cécile", "Céline",
    "Chloé", "Claire", "Delphine", "Élodie", "Émilie", "Fanny", "Hélène", "Inès",
    "Isabelle", "Julie", "Laure", "Léa", "Lucie", "Manon", "Marion", "Mathilde", "Nadia",
    "Nathalie", "Pauline", "Sandrine", "Sarah", "Sophie", "Valérie", "Virginie", "Yasmina",
]  # fmt: skip
MALE_FIRST_NAMES = [
    "Alexandre", "Antoine", "Baptiste", "Benoît", "Cédric", "Damien", "Erwan", "Florian",
    "François", "Guillaume", "Hugo", "Julien", "Karim", "Lucas", "Mathieu", "Maxime",
    "Mehdi", "Nicolas", "Olivier", "Pierre-Yves", "Romain", "Samuel", "Sébastien",
    "Thomas", "Vincent", "Yann",
]  # fmt: skip

# Invented surnames: onset + vowel + ending (e.g. "Dorvanel", "Quenoubert").
_ONSETS = [
    "Bal", "Ber", "Bran", "Cal", "Cor", "Dor", "Fal", "Fer", "Gal", "Gour", "Kal", "Ker",
    "Lan", "Lor", "Mal", "Mor", "Nal", "Quen", "Ral", "Ros", "Sal", "Tal", "Ter", "Val",
    "Ver", "Vil",
]  # fmt: skip
_VOWELS = ["a", "e", "i", "o", "ou", "an"]
_ENDINGS = [
    "bert", "chon", "dec", "gnac", "lin", "llec", "mond", "nel", "quet", "rac", "ric",
    "rin", "sset", "tal", "vel", "zet",
]  # fmt: skip


def surnames() -> list[str]:
    """Every invented surname, in a stable order (2,496 of them)."""
    return [f"{o}{v}{e}" for o in _ONSETS for v in _VOWELS for e in _ENDINGS]


# EHPAD names (common themes; the commune tells them apart).
EHPAD_NAMES = [
    "Les Tilleuls", "Les Glycines", "La Roseraie", "Les Hortensias", "Les Charmilles",
    "Le Clos Fleuri", "Les Marronniers", "La Source", "Les Jardins du Bocage", "Le Prieuré",
    "Les Genêts", "Les Acacias", "Le Bois Joli", "Les Camélias", "La Chênaie",
    "Les Pommiers", "Le Val Fleuri", "Les Coteaux", "La Providence", "Saint-Joseph",
    "Les Lilas", "Le Parc", "Les Bruyères", "La Colline", "Les Mésanges", "Le Verger",
    "Les Peupliers", "La Vallée", "Les Fontaines", "Le Moulin", "Les Myosotis",
    "La Maison du Lac", "Les Iris", "Le Grand Pré", "Les Saules", "La Tonnelle",
    "Les Cèdres", "Le Bocage", "Les Aubépines", "La Charmeraie", "Les Primevères",
    "Le Logis", "Les Violettes", "La Clairière", "Les Noisetiers", "Les Érables",
    "Le Jardin des Sources", "Les Pervenches", "La Résidence du Château", "Les Ormeaux",
    "Les Troènes", "Le Sacré-Cœur", "Les Églantines", "La Futaie", "Les Magnolias",
    "Le Hameau", "Les Capucines", "La Pommeraie", "Les Tamaris", "Les Rives",
    "Les Bleuets", "Le Clos Saint-Martin", "Les Ajoncs", "La Garenne", "Les Sources",
    "Le Domaine des Vignes", "Les Chênes", "La Mare aux Fées",
]  # fmt: skip

STREETS = [
    "rue des Tilleuls", "rue de la Mairie", "avenue de Paris", "rue du Maine",
    "rue de Bretagne", "place de l'Église", "rue Nationale", "rue du Stade",
    "boulevard de la Gare", "rue des Écoles", "chemin des Prés", "rue du Moulin",
    "allée des Chênes", "rue de la Libération", "rue Saint-Martin", "route de Laval",
]  # fmt: skip
